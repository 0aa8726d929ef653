// The benchmark topology: every server at an https name on a loopback port, Node's fetch
// routed to them, and Chromium (with or without the built extension) mapping the names.
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright';
import { CHROMIUM_PATH } from '../../../e2e/src/browser.ts';
import { type HttpsSite, serveHttps } from '../../../e2e/src/network.ts';
import type { TestPki } from '../../../e2e/src/pki.ts';

/** An https server whose handler can be replaced: a "fresh instance" keeps its port. */
export interface SwappableSite extends HttpsSite {
  swap(handler: RequestListener): void;
}

export async function serveSwappable(
  name: string,
  pki: TestPki,
  handler: RequestListener,
  latencyMs = 0,
): Promise<SwappableSite> {
  let current = handler;
  const site = await serveHttps(name, pki, (req: IncomingMessage, res: ServerResponse) => {
    if (latencyMs === 0) current(req, res);
    else setTimeout(() => current(req, res), latencyMs);
  });
  return Object.assign(site, {
    swap: (next: RequestListener) => {
      current = next;
    },
  });
}

/** Counts requests per path on a handler (which calls a run made). */
export function countingHandler(handler: RequestListener): {
  handler: RequestListener;
  counts: Map<string, number>;
} {
  const counts = new Map<string, number>();
  return {
    counts,
    handler: (req, res) => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      handler(req, res);
    },
  };
}

/** Chromium with the unpacked extension in `dir` (a probe built by a benchmark). */
export async function launchWithExtensionDir(
  dir: string,
  networkArgs: string[],
): Promise<BrowserContext> {
  return launchPlain([
    `--disable-extensions-except=${dir}`,
    `--load-extension=${dir}`,
    ...networkArgs,
  ]);
}

/**
 * Chromium without the extension: a persistent profile and the same flags as
 * launchWithExtension otherwise.
 */
export async function launchPlain(networkArgs: string[]): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'bsso-bench-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...networkArgs,
    ],
  });
  const remove = () => rmSync(profile, { recursive: true, force: true });
  context.on('close', remove);
  process.once('exit', remove);
  return context;
}

/**
 * Resolves when an extension content script's isolated world appears in the page's main
 * frame (of `extensionId`, or of any extension): a click before that would find no
 * listener. Call before navigating.
 */
export async function contentScriptWatcher(page: Page, extensionId: string | undefined) {
  const cdp = await page.context().newCDPSession(page);
  let waiters: (() => void)[] = [];
  cdp.on('Runtime.executionContextCreated', (event) => {
    const ctx = event.context;
    const origin = String(ctx.origin);
    const match = extensionId
      ? origin === `chrome-extension://${extensionId}`
      : origin.startsWith('chrome-extension://');
    if (match) {
      for (const w of waiters) w();
      waiters = [];
    }
  });
  await cdp.send('Runtime.enable');
  return {
    next(timeoutMs = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no content script')), timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
