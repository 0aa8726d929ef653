// The sign-in popup's life (threats 7 and 8): it ends when the window closes, when the
// provider's done URL loads, or when the user never finishes; every listener is freed.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { createSignInPopup, type SignInPopupOptions } from '../src/background/popup.ts';

const ISSUER = 'https://mail.test';
const SIGNIN = `${ISSUER}/signin?login_hint=alice%40mail.test&popup=1`;

type Listener = (...args: never[]) => void;

/** Fake windows/tabs APIs that record listeners and removed windows. */
function fakeBrowser() {
  const removedListeners = { windows: new Set<Listener>(), tabs: new Set<Listener>() };
  const windowListeners = new Set<(id: number) => void>();
  const tabListeners = new Set<
    (tabId: number, change: { url?: string }, tab: { windowId?: number; url?: string }) => void
  >();
  const removedWindows: number[] = [];
  let pings = 0;
  const options = {
    windows: {
      create: async () => ({ id: 7, tabs: [{ url: SIGNIN }] }),
      remove: async (id: number) => {
        removedWindows.push(id);
      },
      onRemoved: {
        addListener: (l: (id: number) => void) => windowListeners.add(l),
        removeListener: (l: (id: number) => void) => {
          windowListeners.delete(l);
          removedListeners.windows.add(l as Listener);
        },
        hasListener: () => false,
      },
    },
    tabs: {
      onUpdated: {
        addListener: (l: never) => tabListeners.add(l),
        removeListener: (l: never) => {
          tabListeners.delete(l);
          removedListeners.tabs.add(l as Listener);
        },
        hasListener: () => false,
      },
    },
    runtime: {
      getPlatformInfo: async () => {
        pings++;
        return { os: 'linux', arch: 'x86-64' };
      },
    },
  } as unknown as SignInPopupOptions;
  return {
    options,
    windowListeners,
    tabListeners,
    removedWindows,
    pings: () => pings,
    closeWindow: (id: number) => {
      for (const l of [...windowListeners]) l(id);
    },
    loadUrl: (windowId: number, url: string) => {
      for (const l of [...tabListeners]) l(1, { url }, { windowId, url });
    },
  };
}

describe('sign-in popup', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('is closed when the user closes the window, and frees its listeners (threat 7)', async () => {
    const b = fakeBrowser();
    const outcome = createSignInPopup(b.options)(SIGNIN, ISSUER);
    await Promise.resolve();
    b.closeWindow(7);
    assert.equal(await outcome, 'closed');
    assert.equal(b.windowListeners.size, 0);
    assert.equal(b.tabListeners.size, 0);
    assert.deepEqual(b.removedWindows, [], 'the user already closed it');
  });

  it('is done when the provider loads its done URL, and the extension closes the window', async () => {
    const b = fakeBrowser();
    const outcome = createSignInPopup(b.options)(SIGNIN, ISSUER);
    await Promise.resolve();
    b.loadUrl(7, `${ISSUER}/signin/done?bsso_popup=done`);
    assert.equal(await outcome, 'done');
    assert.deepEqual(b.removedWindows, [7]);
    assert.equal(b.windowListeners.size + b.tabListeners.size, 0);
  });

  it('ignores a done URL on another origin or in another window', async () => {
    const b = fakeBrowser();
    let settled = false;
    const outcome = createSignInPopup(b.options)(SIGNIN, ISSUER).then((o) => {
      settled = true;
      return o;
    });
    await Promise.resolve();
    b.loadUrl(7, 'https://evil.test/?bsso_popup=done');
    b.loadUrl(8, `${ISSUER}/?bsso_popup=done`);
    await Promise.resolve();
    assert.equal(settled, false);
    b.closeWindow(7);
    assert.equal(await outcome, 'closed');
  });

  it('times out when sign-in never completes, closes the window and stops keeping alive (threat 8)', async () => {
    const b = fakeBrowser();
    const outcome = createSignInPopup({ ...b.options, timeoutMs: 60_000 })(SIGNIN, ISSUER);
    await Promise.resolve();
    mock.timers.tick(40_000);
    assert.equal(b.pings(), 2, 'the worker is kept alive while the user signs in');
    mock.timers.tick(20_000);
    assert.equal(await outcome, 'timeout');
    assert.deepEqual(b.removedWindows, [7]);
    assert.equal(b.windowListeners.size + b.tabListeners.size, 0);
    const pingsAtEnd = b.pings();
    mock.timers.tick(120_000);
    assert.equal(b.pings(), pingsAtEnd, 'no keep-alive after the end');
  });
});
