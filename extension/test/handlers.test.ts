import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AssertionClaims, type AssertionSigningKey, signAssertion } from '@bsso/protocol';
import { createFlowStore } from '../src/background/flow.ts';
import {
  type BackgroundDeps,
  createHandlers,
  dispatch,
  type SenderLike,
} from '../src/background/handlers.ts';
import type { PopupOutcome } from '../src/background/popup.ts';
import { addEmail, readConnectedSites, readPreferences } from '../src/shared/storage.ts';
import { memoryArea } from './memory-area.ts';

const EP = 'https://site.test/bsso';
const ISSUER = 'https://mail.test';
const NONCE = 'n'.repeat(43);
const ASSOCIATION: AssertionSigningKey = {
  kind: 'association',
  handle: 'h'.repeat(22),
  secret: new Uint8Array(32),
};

/** An assertion as the provider would issue it for this test's request, with `lies` changed. */
function issued(lies: Partial<AssertionClaims> = {}): Promise<string> {
  const claims: AssertionClaims = {
    iss: ISSUER,
    sub: 'alice@mail.test',
    aud: 'https://site.test/bsso',
    nonce: 'n'.repeat(43),
    iat: 1,
    exp: 121,
    jti: 'j'.repeat(22),
    ...lies,
  };
  return signAssertion(claims, ASSOCIATION);
}
const JWT = await issued();
const tabSender: SenderLike = { tab: { id: 7 }, frameId: 0, url: 'https://site.test/page' };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

async function setup(
  answers: Response[] = [],
  opts: { email?: string | null; popup?: PopupOutcome } = {},
) {
  const local = memoryArea();
  const session = memoryArea();
  if (opts.email !== null) await addEmail(local, opts.email ?? 'alice@mail.test');
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const popups: string[] = [];
  const chooserSites: string[] = [];
  const marked: number[] = [];
  let optionsOpened = 0;
  let discoveries = 0;
  const deps: BackgroundDeps = {
    local,
    session,
    flows: createFlowStore(session, () => 1000),
    discovery: async () => {
      discoveries++;
      return { issuer: ISSUER, assertionEndpoint: `${ISSUER}/bsso/assertion` };
    },
    chooser: {
      open: async (site) => {
        chooserSites.push(site);
        return null;
      },
      answer: () => false,
    },
    signIn: async (url) => {
      popups.push(url);
      return opts.popup ?? 'closed';
    },
    openOptions: async () => {
      optionsOpened++;
    },
    markAvailable: async (tabId) => {
      marked.push(tabId);
    },
    fetch: async (url, init) => {
      calls.push({ url, init });
      const next = answers.shift();
      if (!next) throw new Error('unexpected fetch');
      return next;
    },
    now: () => 1000,
    extensionBase: 'chrome-extension://abc/',
    chooserUrl: 'chrome-extension://abc/src/chooser/index.html',
  };
  const handlers = createHandlers(deps);
  return {
    local,
    session,
    calls,
    popups,
    chooserSites,
    marked,
    get optionsOpened() {
      return optionsOpened;
    },
    get discoveries() {
      return discoveries;
    },
    send: (m: unknown, sender: SenderLike = tabSender) => dispatch(handlers, m, sender),
  };
}

const begin = { type: 'content-to-background:begin', endpoint: EP };
const assertMsg = {
  type: 'content-to-background:assert',
  endpoint: EP,
  challenge: { nonce: NONCE, expires_in: 300 },
};

describe('sender checks', () => {
  test('refuses subframes, missing tabs and pages on another origin, before any work', async () => {
    const t = await setup();
    for (const sender of [
      { ...tabSender, frameId: 1 },
      { frameId: 0, url: 'https://site.test/' },
      { ...tabSender, url: 'https://evil.test/' },
      { ...tabSender, url: 'http://site.test/' },
    ]) {
      const r = await t.send(begin, sender);
      assert.equal(r.ok, false, JSON.stringify(sender));
    }
    assert.equal(t.discoveries, 0);
    assert.equal(t.calls.length, 0);
  });
  test('extension-page messages need the extension origin', async () => {
    const t = await setup();
    const r = await t.send(
      { type: 'options-to-background:discover', email: 'a@mail.test' },
      tabSender,
    );
    assert.deepEqual(r, { ok: false, code: 'sender_rejected' });
  });
});

describe('available (toolbar badge)', () => {
  test("marks the sender's tab for its own endpoint only; no network call", async () => {
    const t = await setup();
    const available = { type: 'content-to-background:available', endpoint: EP };
    assert.deepEqual(await t.send(available), { ok: true });
    assert.deepEqual(t.marked, [7]);
    for (const sender of [
      { ...tabSender, frameId: 1 },
      { ...tabSender, url: 'https://evil.test/' },
    ]) {
      assert.equal((await t.send(available, sender)).ok, false);
    }
    assert.deepEqual(
      (await t.send({ ...available, endpoint: 'https://evil.test/bsso' })).ok,
      false,
    );
    assert.deepEqual(t.marked, [7]);
    assert.equal(t.calls.length + t.discoveries, 0);
  });
});

describe('begin', () => {
  test('with the default address: discovery, then the flow is ready', async () => {
    const t = await setup();
    assert.deepEqual(await t.send(begin), {
      ok: true,
      email: 'alice@mail.test',
      domain: 'mail.test',
      issuer: ISSUER,
      challengeUrl: `${EP}?bsso=challenge&domain=mail.test`,
    });
  });
  test('no address at all: no_email, options offered, no network call', async () => {
    const t = await setup([], { email: null });
    assert.deepEqual(await t.send(begin), { ok: false, code: 'no_email' });
    assert.equal(t.optionsOpened, 1);
    assert.equal(t.discoveries, 0);
  });
  test('no default: the chooser shows the site origin; cancelled means no_email', async () => {
    const t = await setup();
    await t.local.set({ emails: ['alice@mail.test', 'bob@mail.test'], defaultEmail: null });
    assert.deepEqual(await t.send(begin), { ok: false, code: 'no_email' });
    assert.deepEqual(t.chooserSites, ['https://site.test']);
    assert.equal(t.discoveries, 0);
    assert.equal((await t.send(begin)).ok, false, 'a new attempt is allowed (not busy)');
  });
});

describe('assert', () => {
  test('without begin: no_flow and no provider call', async () => {
    const t = await setup();
    assert.deepEqual(await t.send(assertMsg), { ok: false, code: 'no_flow' });
    assert.equal(t.calls.length, 0);
  });
  test('asks the provider with credentials and returns the assertion once', async () => {
    const t = await setup([json(200, { assertion: JWT })]);
    await t.send(begin);
    assert.deepEqual(await t.send(assertMsg), { ok: true, assertion: JWT });
    const call = t.calls[0];
    assert.equal(call?.url, `${ISSUER}/bsso/assertion`);
    assert.equal(call?.init?.credentials, 'include');
    assert.deepEqual(JSON.parse(String(call?.init?.body)), {
      email: 'alice@mail.test',
      audience: EP,
      nonce: NONCE,
    });
    assert.equal((await readConnectedSites(t.local))[0]?.site, 'https://site.test');
    assert.deepEqual(await t.send(assertMsg), { ok: false, code: 'no_flow' }, 'flow ended');
  });
  test("another tab cannot use this tab's flow", async () => {
    const t = await setup([json(200, { assertion: JWT })]);
    await t.send(begin);
    assert.deepEqual(await t.send(assertMsg, { ...tabSender, tab: { id: 8 } }), {
      ok: false,
      code: 'no_flow',
    });
    assert.equal(t.calls.length, 0);
  });
  test('a malformed challenge: challenge_failed, no provider call', async () => {
    const t = await setup();
    await t.send(begin);
    const r = await t.send({ ...assertMsg, challenge: { nonce: 'short', expires_in: 1 } });
    assert.deepEqual(r, { ok: false, code: 'challenge_failed' });
    assert.equal(t.calls.length, 0);
  });
  test('login_required: popup on the provider, one retry, then success', async () => {
    const signin = `${ISSUER}/signin?login_hint=alice%40mail.test&popup=1`;
    const t = await setup([
      json(401, { error: 'login_required', error_description: 'x', signin_url: signin }),
      json(200, { assertion: JWT }),
    ]);
    await t.send(begin);
    assert.deepEqual(await t.send(assertMsg), { ok: true, assertion: JWT });
    assert.deepEqual(t.popups, [signin]);
  });
  test('still not signed in after the popup: login_cancelled, and a new attempt works', async () => {
    const login = () =>
      json(401, {
        error: 'login_required',
        error_description: 'x',
        signin_url: `${ISSUER}/signin`,
      });
    const t = await setup([login(), login()]);
    await t.send(begin);
    assert.deepEqual(await t.send(assertMsg), { ok: false, code: 'login_cancelled' });
    assert.equal(t.calls.length, 2);
    assert.equal((await t.send(begin)).ok, true);
  });
  test('a popup that times out cancels the sign-in: login_cancelled, no retry (threat 8)', async () => {
    const t = await setup(
      [
        json(401, {
          error: 'login_required',
          error_description: 'x',
          signin_url: `${ISSUER}/signin`,
        }),
        json(200, { assertion: JWT }),
      ],
      { popup: 'timeout' },
    );
    await t.send(begin);
    assert.deepEqual(await t.send(assertMsg), { ok: false, code: 'login_cancelled' });
    assert.equal(t.popups.length, 1);
    assert.equal(t.calls.length, 1, 'no retry after the timeout');
    assert.deepEqual(await readConnectedSites(t.local), [], 'nothing issued, nothing recorded');
    assert.equal((await t.send(begin)).ok, true, 'a new attempt works');
  });
  test('a sign-in URL off the provider origin is refused, no popup', async () => {
    const t = await setup([
      json(401, {
        error: 'login_required',
        error_description: 'x',
        signin_url: 'https://evil.test/',
      }),
    ]);
    await t.send(begin);
    assert.deepEqual((await t.send(assertMsg)).ok, false);
    assert.deepEqual(t.popups, []);
  });
  test('an assertion that lies in sub, aud, nonce or iss: assertion_mismatch, not delivered (threat 44)', async () => {
    const lies: Partial<AssertionClaims>[] = [
      { sub: 'mallory@mail.test' },
      { aud: 'https://evil.test/bsso' },
      { nonce: 'm'.repeat(43) },
      { iss: 'https://evil.test' },
    ];
    for (const lie of lies) {
      const t = await setup([json(200, { assertion: await issued(lie) })]);
      await t.send(begin);
      const r = await t.send(assertMsg);
      assert.equal(r.ok, false, JSON.stringify(lie));
      assert.equal(!r.ok && r.code, 'assertion_mismatch', JSON.stringify(lie));
      assert.equal('assertion' in r, false, 'nothing to deliver');
      assert.equal(t.calls.length, 1, 'no further request');
      assert.deepEqual(await readConnectedSites(t.local), [], 'not recorded as connected');
      assert.deepEqual(await t.send(assertMsg), { ok: false, code: 'no_flow' }, 'flow ended');
    }
  });
  test('an assertion that does not decode: provider_error, not delivered', async () => {
    const t = await setup([json(200, { assertion: 'aaaa.bbbb.cccc' })]);
    await t.send(begin);
    const r = await t.send(assertMsg);
    assert.equal(!r.ok && r.code, 'provider_error');
    assert.equal('assertion' in r, false);
    assert.deepEqual(await readConnectedSites(t.local), []);
  });
  test('wrong_account is reported as such', async () => {
    const t = await setup([json(403, { error: 'wrong_account', error_description: 'x' })]);
    await t.send(begin);
    assert.deepEqual(await t.send(assertMsg), { ok: false, code: 'wrong_account' });
  });
});

describe('chooser answer', () => {
  const chooserSender = { url: 'chrome-extension://abc/src/chooser/index.html?request=x' };
  const choose = {
    type: 'chooser-to-background:choose',
    requestId: 'r'.repeat(22),
    email: 'alice@mail.test',
    remember: true,
  };
  test('remembers the choice for the site the background stored', async () => {
    const t = await setup();
    await t.session.set({
      [`chooser:${'r'.repeat(22)}`]: { site: 'https://site.test', expiresAt: 5000 },
    });
    assert.deepEqual(await t.send(choose, chooserSender), { ok: true });
    assert.deepEqual((await readPreferences(t.local)).siteChoices, {
      'https://site.test': 'alice@mail.test',
    });
  });
  test('unknown request, other senders, unknown addresses: refused, nothing remembered', async () => {
    const t = await setup();
    assert.deepEqual(await t.send(choose, chooserSender), { ok: false, code: 'no_flow' });
    await t.session.set({
      [`chooser:${'r'.repeat(22)}`]: { site: 'https://site.test', expiresAt: 5000 },
    });
    assert.deepEqual(await t.send(choose, tabSender), { ok: false, code: 'sender_rejected' });
    assert.deepEqual(
      await t.send(choose, { url: 'chrome-extension://abc/src/options/index.html' }),
      { ok: false, code: 'sender_rejected' },
    );
    assert.deepEqual(await t.send({ ...choose, email: 'eve@mail.test' }, chooserSender), {
      ok: false,
      code: 'no_email',
    });
    assert.deepEqual((await readPreferences(t.local)).siteChoices, {});
  });
});
