// Threat 41 in Chromium with the real build: a page at a site the user never signed in to
// makes a decoy the sign-in button (a transparent button over its "Play video" button, or its
// whole body). The extension asks in its own window first; until the user answers, the site
// gets nothing (no challenge, not even the address's domain) and the page sees nothing: no DOM
// change (its own MutationObserver records none), defaultPrevented stays false. Cancel sends
// nothing and shows no notice; Continue signs in; later sign-ins at that origin are one
// click; the options page can turn the confirmation off (protocol-spec.md#extension-processing).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright';
import {
  badgeText,
  endpointRequests,
  eventually,
  readNotice,
  signOutAtSite,
} from '../src/flows.ts';
import {
  ALICE,
  addAddressInExtension,
  answerConfirmation,
  signInAtProvider,
  signInAtSite,
} from '../src/steps.ts';
import {
  SITE_ENDPOINT,
  startTopology,
  type Topology,
  type TopologyOptions,
} from '../src/topology.ts';

const SITE = 'https://site.test';
const HEAD = `<link rel="bsso_end_point" href="${SITE_ENDPOINT}"><script src="/decoy.js"></script>`;

/** What the attacker's script saw: mutations of its document and the clicks it heard. */
interface Seen {
  mutations: string[];
  clicks: { target: string; defaultPrevented: boolean }[];
}

const DECOY_PAGES: NonNullable<TopologyOptions['siteRoutes']> = {
  // A plain, invisible button over the page's own button.
  '/cover': {
    type: 'html',
    body: `<!doctype html><html lang="en"><head><title>Cat video</title>${HEAD}</head><body>
<h1>Cat video</h1><button id="play" type="button">Play video</button>
<button id="bsso_sign_in_button" type="button" aria-label="Play video"></button></body></html>`,
  },
  // The whole body is the button.
  '/body': {
    type: 'html',
    body: `<!doctype html><html lang="en"><head><title>Prize</title>${HEAD}</head>
<body id="bsso_sign_in_button"><h1 id="prize">Click anywhere to claim your prize</h1></body></html>`,
  },
  '/decoy.js': {
    type: 'js',
    body: `window.seen = { mutations: [], clicks: [] };
window.addEventListener('click', (e) => {
  window.seen.clicks.push({ target: e.target.id || e.target.localName, defaultPrevented: e.defaultPrevented });
});
window.addEventListener('load', () => {
  const cover = document.querySelector('button#bsso_sign_in_button');
  if (cover) Object.assign(cover.style, { position: 'fixed', inset: '0', opacity: '0', zIndex: '10' });
  new MutationObserver((records) => {
    for (const r of records) window.seen.mutations.push(r.type + ' ' + (r.attributeName || r.target.nodeName));
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
});`,
  },
};

describe('threat 41: a decoy page at a site the user never signed in to', () => {
  let t: Topology;
  let page: Page;
  /** The confirmation window the first test leaves open for the second. */
  let pending: Page | undefined;

  before(async () => {
    t = await startTopology('association', { siteRoutes: DECOY_PAGES });
    await t.provider.accounts.create(ALICE.email, ALICE.password);
    page = await t.browser.context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    await addAddressInExtension(t, ALICE.email);
  });
  after(async () => t?.close());

  /** Opens a decoy page once the content script watches it (badge), with empty logs. */
  async function openDecoy(path: string): Promise<void> {
    await page.goto(`${SITE}${path}`);
    await eventually(
      () => badgeText(t, `${SITE}${path}`),
      (b) => b === '✓',
      'the content script on the decoy',
    );
    t.siteLog.clear();
    t.providerLog.clear();
  }

  /** Clicks at the centre of `selector` with the mouse (a trusted click on whatever is on top). */
  async function clickAt(selector: string): Promise<void> {
    const box = await page.locator(selector).boundingBox();
    assert.ok(box, `${selector} is on the page`);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  }

  const seen = () => page.evaluate(() => (window as unknown as { seen: Seen }).seen);

  /** Nothing reached the site's endpoint or the provider (no discovery, challenge, assertion). */
  function assertNothingSent(): void {
    assert.equal(endpointRequests(t, 'GET'), 0, 'no challenge: not even the domain');
    assert.equal(endpointRequests(t, 'POST'), 0, 'no delivery');
    assert.deepEqual(t.providerLog.entries, [], 'no WebFinger, no assertion request');
  }

  test('a decoy over the button: the confirmation shows the real origin and the address, nothing reaches the site, the page sees nothing, Cancel sends nothing and shows no notice', async () => {
    await openDecoy('/cover');
    const opened = t.browser.context.waitForEvent('page');
    await clickAt('#play');
    const confirmation = await opened;
    await confirmation.locator('#confirm-form').waitFor();
    assert.equal(await confirmation.locator('#site').textContent(), SITE);
    assert.equal(await confirmation.locator('#confirm-email').textContent(), ALICE.email);
    assert.equal(await confirmation.title(), 'Sign in to this site?');

    assertNothingSent();
    assert.deepEqual(await seen(), {
      mutations: [],
      clicks: [{ target: 'bsso_sign_in_button', defaultPrevented: false }],
    });

    await answerConfirmation(confirmation, { site: SITE, email: ALICE.email }, 'cancel');
    // A click while an attempt runs is ignored: a new window means the cancelled attempt has
    // ended, with whatever it did to the page.
    const reopened = t.browser.context.waitForEvent('page');
    await clickAt('#play');
    pending = await reopened;
    await pending.locator('#confirm-form').waitFor();
    assertNothingSent();
    assert.equal(await readNotice(page), undefined, 'no notice');
    const later = await seen();
    assert.deepEqual(later.mutations, [], 'no change to the page');
    assert.equal(later.clicks.length, 2);
    assert.ok(later.clicks.every((c) => !c.defaultPrevented));
  });

  test('Continue (by keyboard): the sign-in completes', async () => {
    assert.ok(pending, 'the confirmation the first test left open');
    const delivered = page.waitForResponse(
      (r) => r.url() === SITE_ENDPOINT && r.request().method() === 'POST',
    );
    // The delivery answers 303 back to the decoy: the next load is that page.
    const back = page.waitForEvent('load');
    await answerConfirmation(pending, { site: SITE, email: ALICE.email }, 'continue', 'keyboard');
    assert.equal((await delivered).status(), 303);
    await back;
    assert.equal(endpointRequests(t, 'GET'), 1, 'one challenge, after Continue');
    await page.goto(`${SITE}/`);
    await page.locator('#signed-in-as', { hasText: ALICE.email }).waitFor();
  });

  test('a second sign-in at that origin: one click, no confirmation', async () => {
    await signOutAtSite(page);
    assert.match(await signInAtSite(page), /alice@mail\.test/);
  });

  test('the body made the button, once the site is forgotten: the confirmation again, Continue signs in', async () => {
    await signOutAtSite(page);
    const options = await t.browser.context.newPage();
    await options.goto(`chrome-extension://${t.browser.extensionId}/src/options/index.html`);
    await options.getByRole('button', { name: `Forget ${SITE}`, exact: true }).click();
    await options.locator('#connected-empty').waitFor();
    await options.close();

    await openDecoy('/body');
    const opened = t.browser.context.waitForEvent('page');
    await clickAt('#prize');
    const confirmation = await opened;
    await confirmation.locator('#confirm-form').waitFor();
    assertNothingSent();
    assert.deepEqual(await seen(), {
      mutations: [],
      clicks: [{ target: 'prize', defaultPrevented: false }],
    });
    const delivered = page.waitForResponse(
      (r) => r.url() === SITE_ENDPOINT && r.request().method() === 'POST',
    );
    const back = page.waitForEvent('load');
    await answerConfirmation(confirmation, { site: SITE, email: ALICE.email });
    assert.equal((await delivered).status(), 303);
    await back;
  });

  test('with the setting off: no confirmation at a site not signed in to before', async () => {
    await signOutAtSite(page);
    const options = await t.browser.context.newPage();
    await options.goto(`chrome-extension://${t.browser.extensionId}/src/options/index.html`);
    const setting = options.getByLabel('Ask before a site gets my address for the first time');
    assert.equal(await setting.isChecked(), true, 'on by default');
    await setting.uncheck();
    await options.getByRole('button', { name: `Forget ${SITE}`, exact: true }).click();
    await options.locator('#connected-empty').waitFor();
    await options.reload();
    assert.equal(await setting.isChecked(), false, 'stored');
    await options.close();

    t.siteLog.clear();
    assert.match(await signInAtSite(page), /alice@mail\.test/);
    assert.equal(endpointRequests(t, 'POST'), 1);
  });
});
