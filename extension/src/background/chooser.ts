// The extension-owned chooser window: a popup of the extension's own page that shows the real
// site origin and asks the user which address the site gets, or (first sign-in of an address
// at a site) whether it may get it. The request sits in storage.session for the page.
import { randomToken } from '@bsso/protocol';
import type { Runtime, Windows } from 'webextension-polyfill';
import { type ChooserAsk, type ChooserRequest, chooserKey } from '../shared/chooser-request.ts';
import type { StorageAreaLike } from '../shared/storage.ts';
import { keepAlive } from './keep-alive.ts';

export interface Chooser {
  /**
   * Asks the user; resolves with the address the user picked or confirmed, or null when
   * cancelled, closed or timed out.
   */
  open(ask: ChooserAsk): Promise<string | null>;
  /** Hands the user's answer to a waiting `open`; false when nothing waits for it. */
  answer(requestId: string, email: string | null): boolean;
}

export interface ChooserOptions {
  windows: Pick<Windows.Static, 'create' | 'remove' | 'onRemoved'>;
  runtime: Pick<Runtime.Static, 'getPlatformInfo'>;
  session: StorageAreaLike;
  /** The chooser page's URL (runtime.getURL of the built page). */
  pageUrl: string;
  now: () => number;
  /** How long the chooser waits. Default: five minutes. */
  timeoutMs?: number;
}

export function createChooser(options: ChooserOptions): Chooser {
  const timeoutMs = options.timeoutMs ?? 5 * 60 * 1000;
  const waiting = new Map<string, (email: string | null) => void>();
  return {
    async open(ask) {
      const requestId = randomToken(16);
      const request: ChooserRequest = { ...ask, expiresAt: options.now() + timeoutMs };
      await options.session.set({ [chooserKey(requestId)]: request });
      const url = `${options.pageUrl}?request=${encodeURIComponent(requestId)}`;
      const win = await options.windows.create({ type: 'popup', url, width: 440, height: 520 });
      return new Promise<string | null>((resolve) => {
        const stopKeepAlive = keepAlive(() => options.runtime.getPlatformInfo());
        const finish = (email: string | null) => {
          if (!waiting.delete(requestId)) return;
          clearTimeout(timer);
          stopKeepAlive();
          options.windows.onRemoved.removeListener(onRemoved);
          void options.session.remove(chooserKey(requestId)).catch(() => undefined);
          if (win.id !== undefined) void options.windows.remove(win.id).catch(() => undefined);
          resolve(email);
        };
        const onRemoved = (id: number) => {
          if (id === win.id) finish(null);
        };
        const timer = setTimeout(() => finish(null), timeoutMs);
        waiting.set(requestId, finish);
        options.windows.onRemoved.addListener(onRemoved);
      });
    },
    answer(requestId, email) {
      const finish = waiting.get(requestId);
      if (!finish) return false;
      finish(email);
      return true;
    },
  };
}
