// The built content script (after `npm run build`) on a page: without the BSSO markup it must
// not touch the extension API (Chromium sets up its bindings on first touch, about 0.8 ms per
// page); with the markup it loads the API and announces the page to the background.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { skipUnlessCi } from '@bsso/protocol/testing';

const dist = resolve(import.meta.dirname, '../dist');
const PAGE = 'https://site.example/article';
const ENDPOINT = 'https://site.example/bsso';

/** Runs the script once in a stand-in page; `touched` lists every read of chrome/browser. */
async function runOnPage(code: string, withMarkup: boolean) {
  const touched: string[] = [];
  const sent: unknown[] = [];
  const runtime = {
    id: 'test-extension-id',
    sendMessage: (message: unknown, reply: (result: unknown) => void) => {
      sent.push(structuredClone(message)); // as the real messaging does (and into this realm)
      reply({ ok: true });
    },
  };
  const chrome = new Proxy(
    { runtime, i18n: { getMessage: () => '' } },
    {
      get(target, key, receiver) {
        touched.push(`chrome.${String(key)}`);
        return Reflect.get(target, key, receiver);
      },
    },
  );
  const document = {
    documentElement: {},
    getElementById: () => (withMarkup ? {} : null),
    querySelector: () => (withMarkup ? { href: ENDPOINT } : null),
    addEventListener: () => undefined,
  };
  const page: Record<string, unknown> = {
    document,
    location: new URL(PAGE),
    URL,
    MutationObserver: class {
      observe() {}
      disconnect() {}
    },
  };
  Object.defineProperty(page, 'chrome', {
    get: () => {
      touched.push('chrome');
      return chrome;
    },
  });
  Object.defineProperty(page, 'browser', {
    get: () => {
      touched.push('browser');
      return undefined;
    },
  });
  page.window = page;
  page.top = page;
  runInNewContext(code, page);
  // Let any promise chain the script started run to its end.
  await new Promise((done) => setImmediate(done));
  return { touched, sent };
}

for (const target of ['chrome', 'firefox'] as const) {
  const path = join(dist, target, 'src/content/index.js');
  // Skipped before `npm run build`; under CI a missing build fails instead.
  const skip = skipUnlessCi(!existsSync(path) && `${path} is not built`);

  test(`${target} content script: no extension API on a page without BSSO`, { skip }, async () => {
    const code = readFileSync(path, 'utf8');
    // Dynamic imports are inlined: nothing to fetch from the page, no web-accessible files.
    assert.equal(/\bimport\s*\(/.test(code), false);
    const { touched, sent } = await runOnPage(code, false);
    assert.deepEqual(touched, []);
    assert.deepEqual(sent, []);
  });

  test(`${target} content script: loads the API and announces a BSSO page`, { skip }, async () => {
    const { touched, sent } = await runOnPage(readFileSync(path, 'utf8'), true);
    assert.ok(touched.includes('chrome.runtime'));
    assert.deepEqual(sent, [{ type: 'content-to-background:available', endpoint: ENDPOINT }]);
  });
}
