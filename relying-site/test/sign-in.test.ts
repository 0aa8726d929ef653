import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ALICE,
  ENDPOINT,
  type Fixture,
  hasSessionCookie,
  startFixture,
} from './helpers/fixture.ts';

describe('sign-in with an association', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(() => fx.close());

  test('cold sign-in associates once; warm sign-in makes zero S2S calls', async () => {
    const browser = fx.browser();
    const first = await browser.challenge();
    assert.ok(first.handle, 'challenge names the association handle');
    assert.equal(fx.standIn.count('/bsso/associate'), 1);
    const assertion = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: first.nonce,
      handle: first.handle,
    });
    const done = await browser.deliver({ assertion, return_to: '/members?x=1' });
    assert.equal(done.status, 303);
    assert.equal(done.location, '/members?x=1');
    assert.ok(hasSessionCookie(done));
    assert.equal(await browser.me(), ALICE);

    const before = fx.standIn.requests.length;
    const second = fx.browser();
    const c2 = await second.challenge();
    assert.equal(c2.handle, first.handle);
    const a2 = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: c2.nonce,
      handle: c2.handle,
    });
    const d2 = await second.deliver({ assertion: a2 });
    assert.equal(d2.status, 303);
    assert.equal(d2.location, '/');
    assert.equal(fx.standIn.requests.length, before, 'no S2S call on a warm sign-in');
    assert.equal(fx.standIn.count('/bsso/verify'), 0);
  });
});
