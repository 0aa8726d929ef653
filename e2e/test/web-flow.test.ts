// The web flow in real Chromium over real HTTPS (protocol-spec.md#web-flow; issue 14): a
// visitor WITHOUT the extension signs in at the demo site through the provider's web
// endpoint (sign in there, consent once, back signed in; later only a redirect and back;
// Cancel gives no session); with the extension the same link signs in with one click and the
// page never goes to the provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright';
import { chromiumNetworkArgs } from '../src/network.ts';
import { launchWithoutExtension, type PlainBrowser } from '../src/plain-browser.ts';
import { ALICE, addAddressInExtension, signInAtProvider, signInAtSite } from '../src/steps.ts';
import { startTopology, type Topology } from '../src/topology.ts';

const BOB = { email: 'bob@mail.test', password: 'another correct horse battery' };
/** A web request whose consent page (an origin Alice never agreed to) a page tries to frame. */
const FRAMED = `https://mail.test/bsso/web?${new URLSearchParams({
  audience: 'https://evil.test/bsso',
  nonce: 'n'.repeat(43),
  login_hint: ALICE.email,
})}`;

/** Every URL the page's top frame navigated to, and every request URL it made. */
function watchUrls(page: Page): { navigations: string[]; requests: string[] } {
  const seen = { navigations: [] as string[], requests: [] as string[] };
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) seen.navigations.push(frame.url());
  });
  page.on('request', (request) => {
    seen.requests.push(request.url());
  });
  return seen;
}

/** From the demo's home page: the button (a link), then the start page's address form. */
async function startWebSignIn(page: Page, email: string): Promise<void> {
  await page.goto('https://site.test/');
  await page.locator('#bsso_sign_in_button').click();
  await page.waitForURL('https://site.test/bsso?bsso=start');
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function signInAtProviderPage(page: Page, password: string): Promise<void> {
  await page.waitForURL((url) => url.origin === 'https://mail.test' && url.pathname === '/signin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: /sign in/i }).click();
}

async function consentPage(page: Page): Promise<void> {
  await page
    .getByRole('heading', { name: 'Sign in to https://site.test?' })
    .waitFor({ timeout: 20_000 });
  assert.equal(new URL(page.url()).origin, 'https://mail.test');
}

function assertNoAssertionInUrls(urls: readonly string[]): void {
  for (const url of urls) {
    assert.doesNotMatch(url, /assertion=|eyJ[A-Za-z0-9_-]{10,}\./, `an assertion in ${url}`);
  }
}

describe('web flow without the extension', () => {
  let t: Topology;
  let plain: PlainBrowser;
  before(async () => {
    t = await startTopology('association', {
      // A page of another site that frames the provider's consent page.
      evilHandler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>Win</title><h1>Click Continue to win</h1>
<iframe id="victim" width="600" height="400" src="${FRAMED}"></iframe>`);
      },
    });
    await t.provider.accounts.create(ALICE.email, ALICE.password);
    await t.provider.accounts.create(BOB.email, BOB.password);
    const sites = [t.providerSite, t.site, ...(t.evil ? [t.evil.site] : [])];
    plain = await launchWithoutExtension(chromiumNetworkArgs(sites, t.pki));
  });
  after(async () => {
    await plain?.close();
    await t?.close();
  });

  test('signed out at the provider: sign in there, consent, back at the site signed in', async () => {
    const page = await plain.context.newPage();
    const seen = watchUrls(page);
    await startWebSignIn(page, ALICE.email);
    await signInAtProviderPage(page, ALICE.password);
    await consentPage(page);
    await page.getByText(ALICE.email).first().waitFor();
    // Continue is inert for a moment after the page shows.
    await page.locator('#continue:enabled').waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    const state = page.locator('#signed-in-as');
    await state.waitFor({ timeout: 20_000 });
    assert.match((await state.textContent()) ?? '', /alice@mail\.test/);
    assert.equal(new URL(page.url()).origin, 'https://site.test');
    assertNoAssertionInUrls([...seen.navigations, ...seen.requests]);
    // The delivery reached the site as a POST to its endpoint, from the provider's page.
    assert.ok(t.siteLog.entries.some((e) => e.method === 'POST' && e.path === '/bsso'));
    await page.close();
  });

  test('signed in and agreed before: only a redirect through the provider and back', async () => {
    const page = await plain.context.newPage();
    await page.goto('https://site.test/');
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.locator('#signed-out').waitFor();
    t.providerLog.clear();
    const seen = watchUrls(page);
    await startWebSignIn(page, ALICE.email);
    await page.locator('#signed-in-as').waitFor({ timeout: 20_000 });
    // One GET of the web endpoint, no consent POST, no sign-in page.
    const web = t.providerLog.entries.filter((e) => e.path === '/bsso/web');
    assert.deepEqual(
      web.map((e) => e.method),
      ['GET'],
    );
    assert.equal(t.providerLog.count('/signin'), 0);
    assertNoAssertionInUrls([...seen.navigations, ...seen.requests]);
    await page.close();
  });

  test('the consent page in a frame of another site: the browser refuses to show it (clickjacking)', async () => {
    const page = await plain.context.newPage();
    // Top level, Alice (signed in) sees the consent page for that origin...
    await page.goto(FRAMED);
    await page.getByRole('heading', { name: 'Sign in to https://evil.test?' }).waitFor();
    // ...but framed by evil.test, the browser shows nothing of the provider: the frame's
    // request carries no SameSite=Lax session (so it is sent to the sign-in page), and every
    // provider page says frame-ancestors 'none'.
    const response = page.waitForResponse((r) => r.url() === FRAMED);
    await page.goto('https://evil.test/');
    assert.ok((await response).status() < 500);
    await page.locator('#victim').waitFor();
    const frame = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(frame, 'the iframe exists');
    const shown = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    // Chromium replaces a refused frame with its own error page.
    assert.equal(frame.url(), 'chrome-error://chromewebdata/');
    assert.doesNotMatch(shown, /Sign in|Continue|Password/);
    assert.equal(t.evil?.log.count('/bsso'), 0, 'nothing was POSTed to evil.test');
    await page.close();
  });

  test('Cancel at the consent page: no session at the site, nothing POSTed to it, a clear page', async () => {
    // Bob (never agreed to the site) on the same browser: out at the site and the provider.
    const page = await plain.context.newPage();
    await page.goto('https://site.test/');
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.locator('#signed-out').waitFor();
    await page.goto('https://mail.test/account');
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.waitForURL('https://mail.test/signin');
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(request.url());
    });
    await startWebSignIn(page, BOB.email);
    await signInAtProviderPage(page, BOB.password);
    await consentPage(page);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Nothing was sent to https://site.test.').waitFor();
    assert.equal(new URL(page.url()).origin, 'https://mail.test');
    // The start page's form, the provider's sign-in and consent forms; no delivery.
    assert.deepEqual(posts, [
      'https://site.test/bsso?bsso=start',
      'https://mail.test/signin',
      'https://mail.test/bsso/web',
    ]);
    await page.getByRole('link', { name: 'Back to https://site.test' }).click();
    await page.locator('#signed-out').waitFor();
    await page.close();
  });
});

describe('the same link with the extension installed', () => {
  let t: Topology;
  before(async () => {
    t = await startTopology('association');
    await t.provider.accounts.create(ALICE.email, ALICE.password);
  });
  after(async () => t?.close());

  test('one click signs in, and the page never goes to the start page or the provider', async () => {
    const page = await t.browser.context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    await addAddressInExtension(t, ALICE.email);
    t.providerLog.clear();
    const seen = watchUrls(page);
    assert.match(await signInAtSite(page, { confirmAs: ALICE.email }), /alice@mail\.test/);
    for (const url of seen.navigations) {
      const parsed = new URL(url);
      assert.equal(parsed.origin, 'https://site.test', url);
      assert.notEqual(parsed.searchParams.get('bsso'), 'start', url);
    }
    assert.equal(t.providerLog.count('/bsso/web'), 0);
    assert.equal(t.providerLog.count('/bsso/assertion'), 1);
  });
});
