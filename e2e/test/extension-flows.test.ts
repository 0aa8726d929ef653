// The extension's flows in Chromium with the real build (issue 5): the chooser, the provider's
// sign-in popup (done and cancelled), late markup, refused pages, pages without BSSO, and the
// wrong account. Each describe shares one topology; its tests run in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright';
import {
  BOB,
  badgeText,
  endpointRequests,
  eventually,
  FLOW_PAGES,
  noticeAsPageSees,
  readNotice,
  signOutAtProvider,
  signOutAtSite,
  waitForNotice,
} from '../src/flows.ts';
import {
  ALICE,
  addAddressInExtension,
  answerConfirmation,
  signInAtProvider,
} from '../src/steps.ts';
import { startTopology, type Topology } from '../src/topology.ts';

const HOME = 'https://site.test/';
const SITE = 'https://site.test';

async function clickSignIn(page: Page): Promise<void> {
  await page.locator('#bsso_sign_in_button').click();
}

async function landSignedIn(page: Page): Promise<string> {
  const state = page.locator('#signed-in-as');
  await state.waitFor({ timeout: 20_000 });
  return (await state.textContent()) ?? '';
}

describe('pages: without BSSO, naming another origin, markup added later', () => {
  let t: Topology;
  let page: Page;
  before(async () => {
    t = await startTopology('association', { siteRoutes: FLOW_PAGES, evilSite: true });
    await t.provider.accounts.create(ALICE.email, ALICE.password);
    page = await t.browser.context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    await addAddressInExtension(t, ALICE.email);
  });
  after(async () => t?.close());

  test('a page without BSSO: no request by the extension, nothing visible, no badge', async () => {
    t.providerLog.clear();
    t.siteLog.clear();
    await page.goto('https://site.test/plain');
    await page.getByRole('button', { name: 'Something else' }).click();
    // The same tab on a BSSO page gets the badge (the content script is alive)...
    await page.goto(HOME);
    await eventually(
      () => badgeText(t, HOME),
      (b) => b === '✓',
      'badge on the BSSO page',
    );
    // ...and loses it on the next page without BSSO.
    await page.goto('https://site.test/plain');
    await page.getByRole('button', { name: 'Something else' }).click();
    await eventually(
      () => badgeText(t, 'https://site.test/plain'),
      (b) => b === '',
      'no badge',
    );
    assert.equal(await readNotice(page), undefined);
    assert.equal(await page.evaluate(() => document.documentElement.children.length), 2);
    assert.deepEqual(t.providerLog.entries, [], 'no request reached the provider');
    assert.equal(endpointRequests(t, 'GET') + endpointRequests(t, 'POST'), 0);
  });

  test('a link to another origin: refused with the page message, nothing sent anywhere', async () => {
    t.providerLog.clear();
    t.siteLog.clear();
    await page.goto('https://site.test/evil-link');
    await clickSignIn(page);
    const shown = await waitForNotice(page, 5_000);
    assert.match(shown.text, /another site/);
    assert.equal(shown.role, 'alert');
    assert.equal(await page.locator('#bsso_sign_in_button').getAttribute('aria-busy'), null);
    assert.equal(await badgeText(t, 'https://site.test/evil-link'), '', 'no badge');
    assert.deepEqual(t.evil?.log.entries, [], 'no request reached evil.test');
    assert.deepEqual(t.providerLog.entries, [], 'no request reached the provider');
    assert.equal(endpointRequests(t, 'GET') + endpointRequests(t, 'POST'), 0);
  });

  test('a button added by the page after load: sign-in works', async () => {
    await signOutAtSite(page);
    await page.goto('https://site.test/late');
    await page.getByRole('button', { name: 'Show sign-in' }).click();
    // The badge says the content script has seen the new markup.
    await eventually(
      () => badgeText(t, 'https://site.test/late'),
      (b) => b === '✓',
      'badge on the late page',
    );
    const delivered = page.waitForResponse(
      (r) => r.url() === 'https://site.test/bsso' && r.request().method() === 'POST',
    );
    // The delivery POST answers 303 back to /late: the next load is that page.
    const back = page.waitForEvent('load');
    // The first sign-in of the address at this site: the user confirms in the extension.
    const confirmation = t.browser.context.waitForEvent('page');
    await clickSignIn(page);
    await answerConfirmation(await confirmation, { site: SITE, email: ALICE.email });
    assert.equal((await delivered).status(), 303);
    await back;
    assert.equal(page.url(), 'https://site.test/late');
    await page.goto(HOME);
    assert.match(await landSignedIn(page), /alice@mail\.test/);
  });
});

describe("the provider's sign-in popup and the wrong account", () => {
  let t: Topology;
  let page: Page;
  before(async () => {
    t = await startTopology('association');
    await t.provider.accounts.create(ALICE.email, ALICE.password);
    await t.provider.accounts.create(BOB.email, BOB.password);
    page = await t.browser.context.newPage();
    await addAddressInExtension(t, ALICE.email);
  });
  after(async () => t?.close());

  test('not signed in at the provider: the popup signs in, the extension retries once', async () => {
    t.providerLog.clear();
    await page.goto(HOME);
    // First the confirmation (first sign-in at this site), then the provider's popup.
    const confirmation = t.browser.context.waitForEvent('page');
    await clickSignIn(page);
    const confirmWindow = await confirmation;
    const popupOpened = t.browser.context.waitForEvent('page');
    await answerConfirmation(confirmWindow, { site: SITE, email: ALICE.email });
    const popup = await popupOpened;
    await popup.waitForURL(/^https:\/\/mail\.test\/signin\?/);
    const url = new URL(popup.url());
    assert.equal(url.searchParams.get('login_hint'), ALICE.email);
    assert.equal(url.searchParams.get('popup'), '1');
    assert.equal(await popup.getByLabel('Email address').inputValue(), ALICE.email);
    await popup.getByLabel('Password').fill(ALICE.password);
    const closed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: 'Sign in' }).click();
    await closed;
    assert.match(await landSignedIn(page), /alice@mail\.test/);
    assert.equal(t.providerLog.count('/bsso/assertion'), 2, 'one request, one retry');
  });

  test('signed in at the provider as another address: a notice no page script can read, without the address, no POST (threat 42)', async () => {
    await signOutAtSite(page);
    await signOutAtProvider(page);
    await signInAtProvider(page, BOB.email, BOB.password);
    t.siteLog.clear();
    await page.goto(HOME);
    await clickSignIn(page);
    const shown = await waitForNotice(page);
    assert.match(shown.text, /another address than the one chosen for this site/);
    assert.equal(shown.role, 'alert');
    assert.equal(shown.shadowRootType, 'closed');
    assert.equal(shown.text.includes(ALICE.email), false, 'the notice never names the address');
    assert.deepEqual(await noticeAsPageSees(page, ALICE.email), {
      host: true,
      shadowRoot: false,
      textInPage: false,
    });
    assert.equal(endpointRequests(t, 'POST'), 0, 'nothing delivered to the site');
    assert.equal(await page.locator('#bsso_sign_in_button').getAttribute('aria-busy'), null);
    assert.equal(await page.locator('#signed-out').count(), 1);
  });

  test('popup closed without signing in: cancelled promptly, then a new attempt works', async () => {
    await signOutAtProvider(page);
    t.siteLog.clear();
    await page.goto(HOME);
    let popupOpened = t.browser.context.waitForEvent('page');
    await clickSignIn(page);
    let popup = await popupOpened;
    await popup.waitForURL(/^https:\/\/mail\.test\/signin\?/);
    const closedAt = Date.now();
    await popup.close();
    const shown = await waitForNotice(page, 5_000);
    assert.ok(Date.now() - closedAt < 5_000, 'the page learns it promptly');
    assert.match(shown.text, /not completed/);
    assert.equal(await page.locator('#bsso_sign_in_button').getAttribute('aria-busy'), null);
    assert.equal(endpointRequests(t, 'POST'), 0, 'nothing delivered to the site');

    popupOpened = t.browser.context.waitForEvent('page');
    await clickSignIn(page);
    popup = await popupOpened;
    await popup.waitForURL(/^https:\/\/mail\.test\/signin\?/);
    await popup.getByLabel('Password').fill(ALICE.password);
    await popup.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await landSignedIn(page), /alice@mail\.test/);
    assert.equal(endpointRequests(t, 'POST'), 1);
  });
});

describe('the chooser: two addresses, no default', () => {
  let t: Topology;
  let page: Page;
  before(async () => {
    t = await startTopology('association');
    await t.provider.accounts.create(ALICE.email, ALICE.password);
    page = await t.browser.context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    await addAddressInExtension(t, BOB.email);
    await addAddressInExtension(t, ALICE.email);
    // The user picks "ask at each new site" in the options page.
    const options = await t.browser.context.newPage();
    await options.goto(`chrome-extension://${t.browser.extensionId}/src/options/index.html`);
    await options.getByLabel('Ask me at each new site').check();
    await options.reload();
    assert.equal(await options.getByLabel('Ask me at each new site').isChecked(), true);
    await options.close();
  });
  after(async () => t?.close());

  test('first use: the chooser shows the real site; picked by keyboard; remembered', async () => {
    await page.goto(HOME);
    const chooserOpened = t.browser.context.waitForEvent('page');
    await clickSignIn(page);
    const chooser = await chooserOpened;
    assert.match(chooser.url(), /\/src\/chooser\/index\.html\?request=/);
    await chooser.locator('#site', { hasText: 'https://site.test' }).waitFor();
    // Keyboard only: focus starts on the proposed (first) address; arrow to alice, tab to
    // "remember" (checked), tab to the sign-in button, Enter.
    const bob = chooser.getByRole('radio', { name: BOB.email });
    const alice = chooser.getByRole('radio', { name: ALICE.email });
    await eventually(
      () => bob.evaluate((el) => el === document.activeElement),
      (focused) => focused,
      'focus on the first address',
    );
    // The sign-in button is inert for a moment after the window shows.
    await chooser.locator('#use:enabled').waitFor();
    await chooser.keyboard.press('ArrowDown');
    assert.equal(await alice.isChecked(), true);
    assert.equal(await chooser.getByLabel('Remember for this site').isChecked(), true);
    await chooser.keyboard.press('Tab');
    await chooser.keyboard.press('Tab');
    const use = chooser.getByRole('button', { name: 'Sign in' });
    assert.equal(await use.evaluate((el) => el === document.activeElement), true);
    const closed = chooser.waitForEvent('close');
    // The window closes on the answer, possibly before the key is released.
    await chooser.keyboard.press('Enter').catch((err: unknown) => {
      if (!chooser.isClosed()) throw err;
    });
    await closed;
    assert.match(await landSignedIn(page), /alice@mail\.test/);
  });

  test('second sign-in at the same site: no chooser, the remembered address', async () => {
    await signOutAtSite(page);
    const opened: string[] = [];
    const onPage = (p: Page) => opened.push(p.url());
    t.browser.context.on('page', onPage);
    await clickSignIn(page);
    assert.match(await landSignedIn(page), /alice@mail\.test/);
    t.browser.context.off('page', onPage);
    assert.deepEqual(opened, [], 'no window opened');
  });
});
