// Helpers for the extension flow tests: extra site pages, the toolbar badge, the page notice,
// and what a person does at the provider.
import type { Page } from 'playwright';
import { SITE_ENDPOINT, type Topology, type TopologyOptions } from './topology.ts';

export const BOB = { email: 'bob@mail.test', password: 'bob battery staple horse' };

const BUTTON = '<button id="bsso_sign_in_button" type="button">Sign in with your email</button>';

/** Site pages for the flow tests: no BSSO, a link to another origin, markup added later. */
export const FLOW_PAGES: NonNullable<TopologyOptions['siteRoutes']> = {
  '/plain': {
    type: 'html',
    body: `<!doctype html><html lang="en"><head><title>Plain</title></head><body>
<h1>No BSSO here</h1><button id="other" type="button">Something else</button></body></html>`,
  },
  '/evil-link': {
    type: 'html',
    body: `<!doctype html><html lang="en"><head><title>Other origin</title>
<link rel="bsso_end_point" href="https://evil.test/bsso"></head><body>${BUTTON}</body></html>`,
  },
  '/late': {
    type: 'html',
    body: `<!doctype html><html lang="en"><head><title>Late</title>
<script src="/late.js" defer></script></head><body>
<button id="reveal" type="button">Show sign-in</button><div id="slot"></div></body></html>`,
  },
  '/late.js': {
    type: 'js',
    body: `document.getElementById('reveal').addEventListener('click', () => {
  const link = document.createElement('link');
  link.rel = 'bsso_end_point';
  link.href = ${JSON.stringify(SITE_ENDPOINT)};
  document.head.append(link);
  const button = document.createElement('button');
  button.id = 'bsso_sign_in_button';
  button.type = 'button';
  button.textContent = 'Sign in with your email';
  document.getElementById('slot').append(button);
});`,
  },
};

/** Polls `read` until `accept` holds (external state without an event), or throws. */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The extension's toolbar badge text for the tab showing `url` ('' when unset). */
export async function badgeText(t: Topology, url: string): Promise<string> {
  const worker = t.browser.context.serviceWorkers()[0] ?? t.browser.serviceWorker;
  return worker.evaluate(async (tabUrl) => {
    // biome-ignore lint/suspicious/noExplicitAny: the chrome global inside the service worker
    const api = (globalThis as any).chrome;
    const tabs: { id: number; url?: string }[] = await api.tabs.query({});
    const tab = tabs.find((x) => x.url === tabUrl);
    if (!tab) return `(no tab ${tabUrl})`;
    return api.action.getBadgeText({ tabId: tab.id });
  }, url);
}

/** The extension's page notice (role=alert in its open shadow root). */
export function notice(page: Page) {
  return page.locator('[data-bsso-notice]').getByRole('alert');
}

/** Signs out at the provider (its account page's button). */
export async function signOutAtProvider(page: Page): Promise<void> {
  await page.goto('https://mail.test/account');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('https://mail.test/signin');
}

/** Signs out at the demo site when signed in there. */
export async function signOutAtSite(page: Page): Promise<void> {
  await page.goto('https://site.test/');
  const out = page.getByRole('button', { name: /sign out/i });
  if ((await out.count()) === 0) return;
  await out.click();
  await page.locator('#signed-out').waitFor();
}

/** Browser requests the site's endpoint received with this method (GET = challenge). */
export function endpointRequests(t: Topology, method: 'GET' | 'POST'): number {
  return t.siteLog.entries.filter((e) => e.path === '/bsso' && e.method === method).length;
}
