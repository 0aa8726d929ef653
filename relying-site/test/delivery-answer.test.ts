// `deliveryAnswer: 'page'` (protocol-spec.md#delivery): the delivery POST is answered with
// the return path's page itself, by the app's own route, with the new session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ALICE,
  ENDPOINT,
  type Fixture,
  hasSessionCookie,
  startFixture,
} from './helpers/fixture.ts';

describe("deliveryAnswer: 'page' (Express)", () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture({ deliveryAnswer: 'page' }, (app) => {
      app.get('/account', (req, res) => {
        res.json({ page: 'account', email: req.bsso.email, delivered: req.bsso.delivered ?? null });
      });
    });
  });
  after(() => fx.close());

  async function signedInAssertion(browser: ReturnType<Fixture['browser']>) {
    const c = await browser.challenge();
    return fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: c.nonce,
      ...(c.handle ? { handle: c.handle } : {}),
    });
  }

  test("answers 200 with the app's page at the return path, signed in, not stored", async () => {
    const browser = fx.browser();
    const assertion = await signedInAssertion(browser);
    const done = await browser.deliver(
      { assertion, return_to: '/account?tab=2' },
      {
        accept: 'text/html',
      },
    );
    assert.equal(done.status, 200);
    assert.equal(done.location, null, 'no redirect: no second navigation');
    assert.ok(hasSessionCookie(done));
    assert.deepEqual(done.body, { page: 'account', email: ALICE, delivered: '/account?tab=2' });
    // The session is the browser's from now on; a plain GET is not a delivery.
    const res = await fetch(`${fx.siteUrl}/account`, {
      headers: { cookie: browser.cookieHeader() },
    });
    assert.deepEqual(await res.json(), { page: 'account', email: ALICE, delivered: null });
  });

  test('a failed delivery is still an error answer: no page, no session', async () => {
    const browser = fx.browser();
    const assertion = await signedInAssertion(browser);
    assert.equal((await browser.deliver({ assertion, return_to: '/account' })).status, 200);
    const replay = await browser.deliver({ assertion, return_to: '/account' });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_nonce');
    assert.equal(hasSessionCookie(replay), false);
  });
});
