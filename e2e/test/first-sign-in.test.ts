// The spine: one complete sign-in in Chromium with the real extension, over real HTTPS,
// in both verification modes (protocol-spec.md#site-processing).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALICE, addAddressInExtension, signInAtProvider, signInAtSite } from '../src/steps.ts';
import { startTopology, type Topology } from '../src/topology.ts';

describe('first sign-in with a cached association', () => {
  let t: Topology;
  before(async () => {
    t = await startTopology('association');
    await t.provider.accounts.create(ALICE.email, ALICE.password);
  });
  after(async () => t?.close());

  test('the user lands on the site signed in, verified locally with the association', async () => {
    const page = await t.browser.context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    await addAddressInExtension(t, ALICE.email);
    t.providerLog.clear();

    // The first sign-in of the address at the site: the user confirms in the extension's window.
    assert.match(await signInAtSite(page, { confirmAs: ALICE.email }), /alice@mail\.test/);
    assert.equal(new URL(page.url()).origin, 'https://site.test');
    assert.deepEqual(t.providerLog.serverToServer(), [
      '/.well-known/webfinger',
      '/.well-known/bsso-provider',
      '/bsso/association',
    ]);
    assert.equal(t.providerLog.count('/bsso/assertion'), 1);
  });

  test('a second sign-in is warm and one click: no confirmation, no server-to-server call from the site', async () => {
    const page = await t.browser.context.newPage();
    await page.goto('https://site.test/');
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.locator('#bsso_sign_in_button').waitFor();
    t.providerLog.clear();

    assert.match(await signInAtSite(page), /alice@mail\.test/);
    assert.deepEqual(t.providerLog.serverToServer(), [], 'the site called the provider');
    assert.equal(t.providerLog.count('/bsso/assertion'), 1);
  });

  test('after a site restart (cache lost) sign-in still works', async () => {
    await t.restartSite();
    const page = await t.browser.context.newPage();
    t.providerLog.clear();
    assert.match(await signInAtSite(page), /alice@mail\.test/);
    assert.equal(t.providerLog.count('/bsso/association'), 1, 're-associated after the restart');
  });
});

describe('first sign-in with direct verification', () => {
  let t: Topology;
  before(async () => {
    t = await startTopology('direct');
    await t.provider.accounts.create(ALICE.email, ALICE.password);
  });
  after(async () => t?.close());

  test('the user lands on the site signed in, verified by the provider', async () => {
    const page = await t.browser.context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    await addAddressInExtension(t, ALICE.email);
    t.providerLog.clear();

    assert.match(await signInAtSite(page, { confirmAs: ALICE.email }), /alice@mail\.test/);
    const s2s = t.providerLog.serverToServer();
    assert.equal(s2s.filter((p) => p === '/bsso/verify').length, 1, 'verified directly, once');
    assert.equal(t.providerLog.count('/bsso/association'), 0, 'no association in direct mode');
  });
});
