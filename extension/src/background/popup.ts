// The provider's sign-in page in a popup window. Finished when the window is closed, or when
// its tab reaches the provider's "done" URL (then the extension closes it), or on timeout.
import type { Runtime, Tabs, Windows } from 'webextension-polyfill';
import { isPopupDone } from '../shared/rules.ts';
import { keepAlive } from './keep-alive.ts';

export type PopupOutcome = 'done' | 'closed' | 'timeout';
export type SignInPopup = (signinUrl: string, issuer: string) => Promise<PopupOutcome>;

export interface SignInPopupOptions {
  windows: Pick<Windows.Static, 'create' | 'remove' | 'onRemoved'>;
  tabs: Pick<Tabs.Static, 'onUpdated'>;
  runtime: Pick<Runtime.Static, 'getPlatformInfo'>;
  /** How long the user may take to sign in. Default: five minutes. */
  timeoutMs?: number;
}

export function createSignInPopup(options: SignInPopupOptions): SignInPopup {
  const { windows, tabs } = options;
  return (signinUrl, issuer) =>
    new Promise<PopupOutcome>((resolve) => {
      let windowId: number | undefined;
      let finished = false;
      const stopKeepAlive = keepAlive(() => options.runtime.getPlatformInfo());
      const finish = (outcome: PopupOutcome) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        stopKeepAlive();
        windows.onRemoved.removeListener(onRemoved);
        tabs.onUpdated.removeListener(onUpdated);
        if (outcome !== 'closed' && windowId !== undefined) {
          void windows.remove(windowId).catch(() => undefined);
        }
        resolve(outcome);
      };
      const onRemoved = (id: number) => {
        if (id === windowId) finish('closed');
      };
      const onUpdated = (_tabId: number, change: Tabs.OnUpdatedChangeInfoType, tab: Tabs.Tab) => {
        if (tab.windowId === windowId && isPopupDone(change.url ?? tab.url, issuer)) {
          finish('done');
        }
      };
      const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 5 * 60 * 1000);
      windows.onRemoved.addListener(onRemoved);
      tabs.onUpdated.addListener(onUpdated);
      windows.create({ type: 'popup', url: signinUrl, width: 480, height: 640 }).then(
        (win) => {
          windowId = win.id;
          if (finished && windowId !== undefined) void windows.remove(windowId).catch(() => {});
          else if (isPopupDone(win.tabs?.[0]?.url, issuer)) finish('done');
        },
        () => finish('closed'),
      );
    });
}
