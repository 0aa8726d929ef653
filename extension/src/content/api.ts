// The extension API for the content script, evaluated on first use only. Touching
// `chrome.runtime` (which webextension-polyfill does when it evaluates) makes Chromium set up
// the API bindings in the page's isolated world, about 0.8 ms: pages without BSSO never pay it.
// The content script is built as one IIFE with dynamic imports inlined (crx standaloneFiles),
// so this loads no chunk from the page and needs no web_accessible_resources.
import type { Browser } from 'webextension-polyfill';

export type BrowserApi = Browser;

/** The polyfilled `browser` API; the polyfill module is evaluated once, on the first call. */
export function loadBrowserApi(): Promise<BrowserApi> {
  return import('webextension-polyfill').then((module) => module.default);
}
