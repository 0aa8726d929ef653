// The extension's own window for the chooser and the confirmation (threat 41): the request it
// stores names the real site and, for a confirmation, the address; the answer, a closed
// window or the timeout ends it, and every listener and stored request is freed.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { type ChooserOptions, createChooser } from '../src/background/chooser.ts';
import { readChooserRequest } from '../src/shared/chooser-request.ts';
import { memoryArea } from './memory-area.ts';

const PAGE = 'chrome-extension://abc/src/chooser/index.html';

function fakeWindows() {
  const listeners = new Set<(id: number) => void>();
  const created: string[] = [];
  const removed: number[] = [];
  const session = memoryArea();
  let windowOpened: (url: string) => void = () => {};
  const opened = new Promise<string>((resolve) => {
    windowOpened = resolve;
  });
  const options = {
    windows: {
      create: async ({ url }: { url: string }) => {
        created.push(url);
        windowOpened(url);
        return { id: 3 };
      },
      remove: async (id: number) => {
        removed.push(id);
      },
      onRemoved: {
        addListener: (l: (id: number) => void) => listeners.add(l),
        removeListener: (l: (id: number) => void) => listeners.delete(l),
        hasListener: () => false,
      },
    },
    runtime: { getPlatformInfo: async () => ({ os: 'linux', arch: 'x86-64' }) },
    session,
    pageUrl: PAGE,
    now: () => 1000,
    timeoutMs: 60_000,
  } as unknown as ChooserOptions;
  return { options, listeners, created, removed, session, opened };
}

/** The request id in the window's URL, and the request stored for the page under it. */
async function opened(w: ReturnType<typeof fakeWindows>) {
  // open() stores the request before it creates the window.
  const requestId = new URL(await w.opened).searchParams.get('request') ?? '';
  const key = `chooser:${requestId}`;
  return { requestId, request: readChooserRequest((await w.session.get(key))[key]) };
}

describe('chooser window', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('a confirmation stores the real site and the address; Continue resolves with it', async () => {
    const w = fakeWindows();
    const chooser = createChooser(w.options);
    const answer = chooser.open({
      kind: 'confirm',
      site: 'https://site.test',
      email: 'a@mail.test',
    });
    const { requestId, request } = await opened(w);
    assert.ok(w.created[0]?.startsWith(`${PAGE}?request=`));
    assert.deepEqual(request, {
      kind: 'confirm',
      site: 'https://site.test',
      email: 'a@mail.test',
      expiresAt: 61_000,
    });
    assert.equal(chooser.answer(requestId, 'a@mail.test'), true);
    assert.equal(await answer, 'a@mail.test');
    assert.deepEqual(w.removed, [3], 'the extension closes its window');
    assert.equal(w.listeners.size, 0);
    assert.deepEqual([...w.session.data.keys()], [], 'the stored request is gone');
    assert.equal(chooser.answer(requestId, 'a@mail.test'), false, 'answered once');
  });

  it('closing the window or the timeout is a cancel (null)', async () => {
    const closed = fakeWindows();
    const first = createChooser(closed.options).open({ kind: 'choose', site: 'https://site.test' });
    await opened(closed);
    for (const l of [...closed.listeners]) l(3);
    assert.equal(await first, null);
    assert.equal(closed.listeners.size, 0);

    const slow = fakeWindows();
    const second = createChooser(slow.options).open({
      kind: 'confirm',
      site: 'https://site.test',
      email: 'a@mail.test',
    });
    await opened(slow);
    mock.timers.tick(60_000);
    assert.equal(await second, null);
    assert.deepEqual(slow.removed, [3]);
    assert.equal(slow.listeners.size, 0);
  });
});
