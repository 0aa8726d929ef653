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

/** What the extension drew in the page as a notice, read the way assistive technology can. */
export interface PageNotice {
  /** The notice's text (its role=alert box, its close button's label included). */
  text: string;
  role: string | undefined;
  /** The shadow root's mode: 'closed' means no page script can reach into it. */
  shadowRootType: string | undefined;
}

interface DomNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string;
  attributes?: string[];
  children?: DomNode[];
  shadowRoots?: (DomNode & { shadowRootType?: string })[];
}

function textOf(node: DomNode): string {
  if (node.nodeType === 3) return node.nodeValue;
  if (node.nodeName === 'STYLE') return '';
  return [...(node.shadowRoots ?? []), ...(node.children ?? [])].map(textOf).join(' ');
}

function findNode(node: DomNode, accept: (n: DomNode) => boolean): DomNode | undefined {
  if (accept(node)) return node;
  for (const child of [...(node.shadowRoots ?? []), ...(node.children ?? [])]) {
    const found = findNode(child, accept);
    if (found) return found;
  }
  return undefined;
}

function attribute(node: DomNode, name: string): string | undefined {
  const list = node.attributes ?? [];
  const i = list.findIndex((value, index) => index % 2 === 0 && value === name);
  return i === -1 ? undefined : list[i + 1];
}

/**
 * The extension's page notice, or undefined when there is none. Read over the DevTools
 * protocol, which (like the accessibility tree) reaches into closed shadow roots; page
 * scripts cannot.
 */
export async function readNotice(page: Page): Promise<PageNotice | undefined> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = (await cdp.send('DOM.getDocument', { depth: -1, pierce: true })) as {
      root: DomNode;
    };
    const host = findNode(root, (n) => attribute(n, 'data-bsso-notice') !== undefined);
    if (!host) return undefined;
    const shadow = host.shadowRoots?.[0];
    const box = shadow && findNode(shadow, (n) => attribute(n, 'role') !== undefined);
    return {
      text: textOf(host).replace(/\s+/g, ' ').trim(),
      role: box && attribute(box, 'role'),
      shadowRootType: shadow?.shadowRootType,
    };
  } finally {
    await cdp.detach();
  }
}

/** Waits for the extension's page notice (see readNotice). */
export async function waitForNotice(page: Page, timeoutMs = 10_000): Promise<PageNotice> {
  const found = await eventually(
    () => readNotice(page),
    (n) => n !== undefined,
    'the page notice',
    timeoutMs,
  );
  return found as PageNotice;
}

/**
 * What a page script can see of the notice: its host element, whether it can open the shadow
 * root, and whether `needle` (the address) appears anywhere in the page's DOM text.
 */
export function noticeAsPageSees(page: Page, needle: string) {
  return page.evaluate((text) => {
    const host = document.querySelector('[data-bsso-notice]');
    return {
      host: host !== null,
      shadowRoot: (host?.shadowRoot ?? null) !== null,
      textInPage:
        (document.documentElement.textContent ?? '').includes(text) ||
        document.documentElement.outerHTML.includes(text),
    };
  }, needle);
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
