import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AssertionClaims,
  type AssertionSigningKey,
  BssoError,
  signAssertion,
} from '@bsso/protocol';
import { createFlowStore } from '../src/background/flow.ts';
import {
  type BackgroundDeps,
  createHandlers,
  dispatch,
  type SenderLike,
} from '../src/background/handlers.ts';
import type { PopupOutcome } from '../src/background/popup.ts';
import type { ChooserAsk } from '../src/shared/chooser-request.ts';
import {
  addEmail,
  readConnectedSites,
  readPreferences,
  recordConnectedSite,
  rememberSiteChoice,
  setConfirmNewSites,
} from '../src/shared/storage.ts';
import { memoryArea } from './memory-area.ts';

const EP = 'https://site.test/bsso';
const ISSUER = 'https://mail.test';
const NONCE = 'n'.repeat(43);
const HANDLE = 'h'.repeat(22);
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
  opts: {
    email?: string | null;
    popup?: PopupOutcome;
    /** What the user answers in the extension's window. Default: Continue, or cancel a chooser. */
    user?: (ask: ChooserAsk) => string | null;
  } = {},
) {
  const local = memoryArea();
  const session = memoryArea();
  if (opts.email !== null) await addEmail(local, opts.email ?? 'alice@mail.test');
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const popups: string[] = [];
  const asks: ChooserAsk[] = [];
  const answered: [string, string | null][] = [];
  const user = opts.user ?? ((ask) => (ask.kind === 'confirm' ? ask.email : null));
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
      open: async (ask) => {
        asks.push(ask);
        return user(ask);
      },
      answer: (requestId, email) => {
        answered.push([requestId, email]);
        return true;
      },
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
    deps,
    local,
    session,
    calls,
    popups,
    asks,
    answered,
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

describe('begin: the address and the consent (threat 41)', () => {
  const SITE = 'https://site.test';
  const ALICE = 'alice@mail.test';
  const ready = { ok: true, challengeUrl: `${EP}?bsso=challenge&domain=mail.test` };

  test('first sign-in of the default address at a site: confirmed in the extension window, then discovery', async () => {
    const t = await setup();
    assert.deepEqual(await t.send(begin), ready);
    assert.deepEqual(t.asks, [{ kind: 'confirm', site: SITE, email: ALICE }]);
    assert.equal(t.discoveries, 1);
  });
  test('a cancelled confirmation: user_cancelled, no discovery, no network call, asked again next time', async () => {
    const t = await setup([], { user: () => null });
    assert.deepEqual(await t.send(begin), { ok: false, code: 'user_cancelled' });
    assert.equal(t.discoveries + t.calls.length, 0, 'nothing sent anywhere');
    assert.deepEqual(await t.send(begin), { ok: false, code: 'user_cancelled' }, 'not busy');
    assert.equal(t.asks.length, 2, 'asked again');
    assert.equal(t.discoveries + t.calls.length, 0);
  });
  test('a confirmation answered with another address counts as cancelled', async () => {
    const t = await setup([], { user: () => 'bob@mail.test' });
    assert.deepEqual(await t.send(begin), { ok: false, code: 'user_cancelled' });
    assert.equal(t.discoveries, 0);
  });
  test('an address already used at the site: no confirmation, another address there: asked', async () => {
    const t = await setup();
    await recordConnectedSite(t.local, { email: ALICE, site: SITE, time: 1 });
    assert.deepEqual(await t.send(begin), ready);
    assert.deepEqual(t.asks, []);
    await recordConnectedSite(t.local, { email: ALICE, site: 'https://other.test', time: 1 });
    await addEmail(t.local, 'bob@mail.test');
    await t.local.set({ defaultEmail: 'bob@mail.test' });
    await t.send({ type: 'content-to-background:begin', endpoint: EP });
    assert.deepEqual(t.asks, [{ kind: 'confirm', site: SITE, email: 'bob@mail.test' }]);
  });
  test('with the setting off: no confirmation', async () => {
    const t = await setup();
    await setConfirmNewSites(t.local, false);
    assert.deepEqual(await t.send(begin), ready);
    assert.deepEqual(t.asks, []);
    await setConfirmNewSites(t.local, true);
    await t.send(begin);
    assert.equal(t.asks.length, 1, 'on again: asked');
  });
  test('an address remembered for the site (picked in the chooser): no confirmation', async () => {
    const t = await setup();
    await rememberSiteChoice(t.local, SITE, ALICE);
    assert.deepEqual(await t.send(begin), ready);
    assert.deepEqual(t.asks, []);
  });
  test('no address at all: no_email, options offered, no network call', async () => {
    const t = await setup([], { email: null });
    assert.deepEqual(await t.send(begin), { ok: false, code: 'no_email' });
    assert.equal(t.optionsOpened, 1);
    assert.equal(t.discoveries, 0);
    assert.deepEqual(t.asks, []);
  });
  test('no default: the chooser shows the site origin, and its pick is the consent', async () => {
    const t = await setup([], { user: () => 'bob@mail.test' });
    await t.local.set({ emails: [ALICE, 'bob@mail.test'], defaultEmail: null });
    assert.deepEqual(await t.send(begin), ready);
    assert.deepEqual(t.asks, [{ kind: 'choose', site: SITE }], 'no second question');
  });
  test('no default, chooser cancelled: user_cancelled, no network call, a new attempt is allowed', async () => {
    const t = await setup();
    await t.local.set({ emails: [ALICE, 'bob@mail.test'], defaultEmail: null });
    assert.deepEqual(await t.send(begin), { ok: false, code: 'user_cancelled' });
    assert.deepEqual(t.asks, [{ kind: 'choose', site: SITE }]);
    assert.equal(t.discoveries + t.calls.length, 0);
    assert.deepEqual(await t.send(begin), { ok: false, code: 'user_cancelled' }, 'not busy');
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
      [`chooser:${'r'.repeat(22)}`]: { kind: 'choose', site: 'https://site.test', expiresAt: 5000 },
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
      [`chooser:${'r'.repeat(22)}`]: { kind: 'choose', site: 'https://site.test', expiresAt: 5000 },
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
    assert.deepEqual(t.answered, []);
  });
  test('a confirmation: Continue answers the address it showed, any other is refused, nothing remembered', async () => {
    const t = await setup();
    await t.session.set({
      [`chooser:${'r'.repeat(22)}`]: {
        kind: 'confirm',
        site: 'https://site.test',
        email: 'alice@mail.test',
        expiresAt: 5000,
      },
    });
    await addEmail(t.local, 'bob@mail.test');
    assert.deepEqual(await t.send({ ...choose, email: 'bob@mail.test' }, chooserSender), {
      ok: false,
      code: 'no_email',
    });
    assert.deepEqual(await t.send(choose, chooserSender), { ok: true });
    assert.deepEqual(await t.send({ ...choose, email: null }, chooserSender), { ok: true });
    assert.deepEqual(t.answered, [
      ['r'.repeat(22), 'alice@mail.test'],
      ['r'.repeat(22), null],
    ]);
    assert.deepEqual((await readPreferences(t.local)).siteChoices, {}, 'remember is ignored');
  });
  test('an expired request is refused', async () => {
    const t = await setup();
    await t.session.set({
      [`chooser:${'r'.repeat(22)}`]: { kind: 'choose', site: 'https://site.test', expiresAt: 999 },
    });
    assert.deepEqual(await t.send(choose, chooserSender), { ok: false, code: 'no_flow' });
    assert.deepEqual(t.answered, []);
  });
});

describe('page challenge (protocol-spec.md#page-challenge, threat 51)', () => {
  const PAGE_NONCE = 'p'.repeat(50);
  const SET = 's'.repeat(22);
  const page = (over: Record<string, unknown> = {}) => ({
    type: 'content-to-background:begin',
    endpoint: EP,
    page: { nonce: PAGE_NONCE, expiresIn: '3600', handleSet: SET, ageMs: 5000, ...over },
  });
  /** A classic sign-in whose challenge answer lets the handle be reused for `seconds`. */
  async function learn(t: Awaited<ReturnType<typeof setup>>, seconds = 3600, set = SET) {
    assert.equal((await t.send(begin)).ok, true);
    const challenge = {
      nonce: NONCE,
      handle: HANDLE,
      expires_in: 300,
      handle_expires_in: seconds,
      handle_set: set,
    };
    const r = await t.send({ ...assertMsg, challenge });
    assert.equal(r.ok, true);
  }

  test('uses the page nonce only with a remembered handle of the same handle set', async () => {
    const fromPage = await issued({ nonce: PAGE_NONCE });
    const t = await setup([json(200, { assertion: JWT }), json(200, { assertion: fromPage })]);
    // Nothing remembered yet: the content script asks for a challenge.
    const first = await t.send(page());
    assert.ok(first.ok && 'challengeUrl' in first);
    assert.equal(t.calls.length, 0, 'no request from the background either');
    await t.send({ type: 'content-to-background:assert', endpoint: EP, challenge: {} });
    await learn(t);
    // Now one message: the assertion for the page's nonce under the remembered handle.
    const second = await t.send(page());
    assert.ok(second.ok && 'assertion' in second, JSON.stringify(second));
    assert.equal(second.assertion, fromPage);
    assert.deepEqual(JSON.parse(String(t.calls[1]?.init?.body)), {
      email: 'alice@mail.test',
      audience: EP,
      nonce: PAGE_NONCE,
      handle: HANDLE,
    });
    // Another handle set (the site lost its cache), a nonce about to expire, a malformed
    // attribute: a challenge as before, and no request.
    for (const over of [
      { handleSet: 't'.repeat(22) },
      { ageMs: 3600_000 - 30_000 },
      { expiresIn: '0' },
      { expiresIn: '3600.5' },
      { nonce: 'short' },
      { handleSet: null },
    ]) {
      const r = await t.send(page(over));
      assert.ok(r.ok && 'challengeUrl' in r, JSON.stringify(over));
      await t.send({ type: 'content-to-background:assert', endpoint: EP, challenge: {} });
    }
    assert.equal(t.calls.length, 2);
    // Message shapes the content script never sends are refused outright.
    for (const bad of [{ ageMs: -1 }, { ageMs: '5' }, { extra: 1 }, { nonce: 'x'.repeat(700) }]) {
      assert.deepEqual(await t.send(page(bad)), { ok: false, code: 'invalid_request' });
    }
  });

  test('a handle about to expire, or one the provider no longer signs with, is not reused', async () => {
    const providerSigned = await signAssertion(
      {
        iss: ISSUER,
        sub: 'alice@mail.test',
        aud: EP,
        nonce: PAGE_NONCE,
        iat: 1,
        exp: 121,
        jti: 'j'.repeat(22),
        invalidate_handle: HANDLE,
      },
      { ...ASSOCIATION, handle: 'k'.repeat(22) },
    );
    const t = await setup([
      json(200, { assertion: JWT }),
      json(200, { assertion: JWT }),
      json(200, { assertion: providerSigned }),
    ]);
    await learn(t, 30); // less than the margin left
    const near = await t.send(page());
    assert.ok(near.ok && 'challengeUrl' in near);
    await t.send({ type: 'content-to-background:assert', endpoint: EP, challenge: {} });
    await learn(t);
    const used = await t.send(page());
    assert.ok(used.ok && 'assertion' in used);
    // The provider did not sign under the handle: the next page asks for a challenge again.
    const after = await t.send(page());
    assert.ok(after.ok && 'challengeUrl' in after);
  });
});

describe('discovery beside the challenge request (not cached)', () => {
  /** A setup whose discovery is not cached and answers only when the test says so. */
  async function cold(result: 'found' | 'fails') {
    const t = await setup([json(200, { assertion: JWT })]);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const lookup = Object.assign(
      async () => {
        started++;
        await gate;
        if (result === 'fails') throw new BssoError('discovery_failed');
        return { issuer: ISSUER, assertionEndpoint: `${ISSUER}/bsso/assertion` };
      },
      { cached: async () => null },
    );
    const handlers = createHandlers({ ...t.deps, discovery: lookup });
    const send = (m: unknown) => dispatch(handlers, m, tabSender);
    return { t, send, release, started: () => started };
  }

  test('begin answers with the challenge URL while discovery runs; assert waits for it', async () => {
    const c = await cold('found');
    const begun = await c.send(begin);
    assert.ok(begun.ok && 'challengeUrl' in begun, 'answered before discovery finished');
    assert.equal(c.started(), 1);
    const asserted = c.send(assertMsg);
    c.release();
    const r = await asserted;
    assert.ok(r.ok && 'assertion' in r);
    assert.equal(c.t.calls.length, 1, 'one request to the provider');
  });

  test('a failed discovery ends the sign-in at assert, with no request to the provider', async () => {
    const c = await cold('fails');
    assert.ok((await c.send(begin)).ok);
    c.release();
    const r = await c.send(assertMsg);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'discovery_failed');
    assert.equal(c.t.calls.length, 0);
    // The flow has ended: a new sign-in may begin.
    assert.ok((await c.send(begin)).ok);
  });
});
