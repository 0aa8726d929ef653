// Threat 27 in the real browser: the attacker obtains a valid assertion for their own account
// (speaking the protocol over HTTP with their own provider session), then makes the victim's
// Chromium POST it to the site from https://evil.test. Login CSRF must fail: no session.
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { hasSession, Jar, ProviderUser } from '../src/attack-world.ts';
import { startTopology, type Topology } from '../src/topology.ts';

const MALLORY = { email: 'mallory@mail.test', password: 'mallory has a long password' };

describe('threat 27: an attacker assertion posted from evil.test into the victim browser', () => {
  let t: Topology;
  let forged = '';
  // The attacker's page: a form that posts the attacker's assertion to the site at once.
  const evilPage: RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="https://site.test/bsso">
<input type="hidden" name="assertion" value="${forged}">
<input type="hidden" name="return_to" value="/members"></form>
<script>document.getElementById('f').submit();</script>`);
  };

  before(async () => {
    t = await startTopology('association', { evilHandler: evilPage });
    await t.provider.accounts.create(MALLORY.email, MALLORY.password);
  });
  after(async () => t?.close());

  /** The attacker, at HTTP level: a challenge in their own "browser", an assertion for it. */
  async function attackerAssertion(attacker: Jar, mallory: ProviderUser): Promise<string> {
    const c = await attacker.fetch('https://site.test/bsso?bsso=challenge&domain=mail.test');
    assert.equal(c.status, 200);
    return mallory.assertionFor(MALLORY.email, c);
  }

  test('the site refuses it (invalid_nonce), creates no session, calls no provider', async () => {
    const mallory = new ProviderUser();
    await mallory.signIn(MALLORY.email, MALLORY.password);
    const attacker = new Jar();
    // Control: the attacker's assertions are valid; in the attacker's own browser it works.
    const own = await attackerAssertion(attacker, mallory);
    const control = await attacker.fetch('https://site.test/bsso', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ assertion: own }).toString(),
    });
    assert.equal(control.status, 303, control.text);
    assert.ok(hasSession(control));

    forged = await attackerAssertion(attacker, mallory);
    const page = await t.browser.context.newPage();
    // The victim has visited the site before and holds its own browser binding cookie.
    await page.goto('https://site.test/');
    const status = await page.evaluate(
      async () => (await fetch('/bsso?bsso=challenge&domain=mail.test')).status,
    );
    assert.equal(status, 200);

    t.providerLog.clear();
    t.siteLog.clear();
    await page.goto('https://evil.test/');
    await page.waitForURL('https://site.test/bsso');
    await page.getByText('invalid_nonce').waitFor();
    assert.ok(t.siteLog.entries.some((e) => e.method === 'POST' && e.path === '/bsso'));
    assert.deepEqual(t.providerLog.serverToServer(), [], 'no server-to-server call');

    const cookies = await t.browser.context.cookies('https://site.test/');
    assert.equal(
      cookies.some((c) => c.name === '__Host-bsso_session'),
      false,
      'no session cookie in the victim browser',
    );
    await page.goto('https://site.test/');
    await page.locator('#signed-out').waitFor();
    assert.equal(await page.locator('#signed-in-as').count(), 0);
    await page.close();
  });
});
