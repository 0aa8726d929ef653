// Page challenges in the real browser (protocol-spec.md#page-challenge, threat 51): the demo
// site puts a nonce into its signed-out page; once the extension remembers the site's handle,
// a sign-in makes no challenge request, and a site that lost its cache is asked again. The
// site answers the delivery with the page itself (deliveryAnswer: 'page'): the warm sign-in is
// one request to the provider and one navigation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Request } from 'playwright';
import { ALICE, addAddressInExtension, signInAtProvider, signInAtSite } from '../src/steps.ts';
import { startTopology, type Topology } from '../src/topology.ts';

describe('page challenge', () => {
  let t: Topology;
  before(async () => {
    t = await startTopology('association', { deliveryAnswer: 'page' });
    await t.provider.accounts.create(ALICE.email, ALICE.password);
  });
  after(async () => t?.close());

  const challenges = () =>
    t.siteLog.entries.filter((e) => e.method === 'GET' && e.path === '/bsso').length;
  const deliveries = () =>
    t.siteLog.entries.filter((e) => e.method === 'POST' && e.path === '/bsso').length;

  async function signOut() {
    const page = await t.browser.context.newPage();
    await page.goto('https://site.test/');
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.locator('#bsso_sign_in_button').waitFor();
    await page.close();
  }

  test('a warm sign-in with the page challenge makes no challenge request', async () => {
    const page = await t.browser.context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    await addAddressInExtension(t, ALICE.email);
    t.siteLog.clear();
    // First sign-in: nothing remembered, so a challenge, whose handle the extension keeps.
    assert.match(await signInAtSite(page, { confirmAs: ALICE.email }), /alice@mail\.test/);
    assert.equal(challenges(), 1);
    await signOut();

    t.siteLog.clear();
    t.providerLog.clear();
    const navigations: string[] = [];
    const onRequest = (r: Request) => {
      if (r.isNavigationRequest()) navigations.push(`${r.method()} ${new URL(r.url()).pathname}`);
    };
    page.on('request', onRequest);
    assert.match(await signInAtSite(page), /alice@mail\.test/);
    page.off('request', onRequest);
    assert.equal(challenges(), 0, 'no challenge request');
    assert.equal(deliveries(), 1);
    // The signed-out page, then one navigation: the delivery, answered with the signed-in
    // page, whose URL is then '/'.
    assert.deepEqual(navigations, ['GET /', 'POST /bsso']);
    assert.equal(page.url(), 'https://site.test/');
    assert.deepEqual(t.providerLog.serverToServer(), [], 'verified with the association');
    assert.equal(t.providerLog.count('/bsso/assertion'), 1);
  });

  test('a restarted site (a new handle set) gets a challenge request again, and signs in', async () => {
    await signOut();
    await t.restartSite();
    const page = await t.browser.context.newPage();
    t.siteLog.clear();
    t.providerLog.clear();
    assert.match(await signInAtSite(page), /alice@mail\.test/);
    assert.equal(challenges(), 1, 'the old handle is not offered to the new site process');
    assert.equal(t.providerLog.count('/bsso/association'), 1);
    assert.equal(t.providerLog.count('/bsso/verify'), 0);
  });
});
