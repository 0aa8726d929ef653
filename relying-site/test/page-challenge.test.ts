// Page challenges (protocol-spec.md#page-challenge, threat 51): a nonce in the page instead of
// a challenge request, bound to the browser, single use, nothing stored per page view.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parsePageChallenge } from '@bsso/protocol';
import { dropRedisPrefix, REDIS_URL, uniquePrefix } from '@bsso/protocol/testing';
import { base64url } from 'jose';
import { createRedisStores, type RedisSiteStores, type SiteCore } from '../src/core/index.ts';
import { createPageNonce, isPageNonce, readPageNonce } from '../src/core/page-challenge.ts';
import { pageChallenge } from '../src/index.ts';
import {
  ALICE,
  type Browser,
  ENDPOINT,
  type Fixture,
  hasSessionCookie,
  startFixture,
} from './helpers/fixture.ts';

/** Reads the attributes the page wrote into its link (as the extension does). */
function attributesOf(html: string) {
  const get = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(html)?.[1] ?? null;
  return {
    nonce: get('data-bsso-nonce'),
    expiresIn: get('data-bsso-expires-in'),
    handleSet: get('data-bsso-handle-set'),
  };
}

describe('page challenges', () => {
  let fx: Fixture;
  const holder = {} as { core: SiteCore };
  before(async () => {
    fx = await startFixture({}, (app) => {
      app.get('/page', async (req, res) => {
        const attrs = await pageChallenge(holder, req, res);
        res
          .set('Cache-Control', 'no-store')
          .type('html')
          .send(`<link rel="bsso_end_point"${attrs}>`);
      });
    });
    holder.core = fx.core;
  });
  after(() => fx.close());

  /** Loads the page in `browser`; its page challenge. */
  async function loadPage(browser: Browser) {
    const res = await fetch(`${fx.siteUrl}/page`, { headers: { cookie: browser.cookieHeader() } });
    browser.keep(res);
    const page = parsePageChallenge(attributesOf(await res.text()));
    assert.ok(page, 'the page carries a well-formed page challenge');
    return page;
  }

  /** The provider's assertion for `nonce` under the site's current handle. */
  async function assertionFor(nonce: string, handle: string) {
    return fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce, handle });
  }

  /** A handle as an earlier challenge gave it (what the extension remembers). */
  async function rememberedHandle() {
    const answer = (await fx.browser().challenge()) as Record<string, unknown>;
    assert.equal(typeof answer.handle, 'string');
    return answer as { handle: string; handle_set: string; handle_expires_in: number };
  }

  test('a page sets the browser cookie once and stores nothing per view', async () => {
    const nonces = fx.core.stores.nonces as unknown as { size: number };
    const before = nonces.size;
    const browser = fx.browser();
    const res = await fetch(`${fx.siteUrl}/page`);
    const cookies = browser.keep(res);
    assert.ok(cookies.some((c) => /^__Host-bsso_browser=.*SameSite=Strict/.test(c)));
    const again = await fetch(`${fx.siteUrl}/page`, {
      headers: { cookie: browser.cookieHeader() },
    });
    assert.deepEqual(browser.keep(again), [], 'no new cookie for a browser that has one');
    await loadPage(browser);
    assert.equal(nonces.size, before, 'no nonce record per page view');
  });

  test('the challenge names the handle set of the pages and how long the handle lasts', async () => {
    const page = await loadPage(fx.browser());
    const answer = await rememberedHandle();
    assert.equal(answer.handle_set, page.handleSet);
    // The stand-in provider gives associations an hour.
    assert.ok(answer.handle_expires_in > 3500 && answer.handle_expires_in <= 3600);
    assert.equal(page.expiresIn, 3600);
    assert.ok(isPageNonce(page.nonce));
  });

  test('a page nonce signs in with a remembered handle, and no challenge request', async () => {
    const { handle } = await rememberedHandle();
    const browser = fx.browser();
    const page = await loadPage(browser);
    const assertion = await assertionFor(page.nonce, handle);
    const calls = fx.standIn.requests.length;
    const done = await browser.deliver({ assertion });
    assert.equal(done.status, 303);
    assert.ok(hasSessionCookie(done));
    assert.equal(await browser.me(), ALICE);
    assert.equal(fx.standIn.requests.length, calls, 'no S2S call from the site');
  });

  test('accepts a page nonce once (replay): no second session', async () => {
    const { handle } = await rememberedHandle();
    const browser = fx.browser();
    const page = await loadPage(browser);
    const assertion = await assertionFor(page.nonce, handle);
    const first = await browser.deliver({ assertion });
    assert.equal(first.status, 303);
    const calls = fx.standIn.requests.length;
    const replay = await browser.deliver({ assertion });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_nonce');
    assert.equal(hasSessionCookie(replay), false);
    assert.equal(fx.standIn.requests.length, calls, 'no further call');
  });

  test('refuses a page nonce of another browser (login CSRF): no session', async () => {
    const { handle } = await rememberedHandle();
    const attacker = fx.browser();
    const page = await loadPage(attacker);
    const assertion = await assertionFor(page.nonce, handle);
    const victim = fx.browser();
    await loadPage(victim); // the victim has a browser cookie of its own
    const calls = fx.standIn.requests.length;
    const planted = await victim.deliver({ assertion });
    assert.equal(planted.status, 400);
    assert.equal(planted.body.error, 'invalid_nonce');
    assert.equal(hasSessionCookie(planted), false);
    assert.equal(await victim.me(), null);
    // Without any browser cookie (a cross-site POST drops the Strict cookie): refused too.
    const bare = fx.browser();
    const crossSite = await bare.deliver({ assertion });
    assert.equal(crossSite.body.error, 'invalid_nonce');
    assert.equal(hasSessionCookie(crossSite), false);
    assert.equal(fx.standIn.requests.length, calls, 'no further call');
    // The attacker's own browser can still use it: the refusals did not consume it.
    assert.equal((await attacker.deliver({ assertion })).status, 303);
  });

  test('refuses a page nonce with a changed expiry or MAC, or expired', async () => {
    const { handle } = await rememberedHandle();
    const browser = fx.browser();
    const page = await loadPage(browser);
    const bytes = base64url.decode(page.nonce);
    const tampered = (at: number) => {
      const copy = bytes.slice();
      copy[at] = (copy[at] ?? 0) ^ 1;
      return base64url.encode(copy);
    };
    // Byte 1 to 4 is the expiry, the last 16 the MAC.
    for (const nonce of [tampered(4), tampered(bytes.length - 1), tampered(10)]) {
      const assertion = await assertionFor(nonce, handle);
      const calls = fx.standIn.requests.length;
      const done = await browser.deliver({ assertion });
      assert.equal(done.status, 400);
      assert.equal(done.body.error, 'invalid_nonce');
      assert.equal(hasSessionCookie(done), false);
      assert.equal(fx.standIn.requests.length, calls, 'no call from the site');
    }
    // An hour and a second later the untouched nonce has expired. The assertion is made then
    // (assertions live two minutes).
    const saved = fx.clock.now;
    fx.clock.now += 3601_000;
    try {
      const late = await browser.deliver({
        assertion: await fx.standIn.assertionFor({
          email: ALICE,
          audience: ENDPOINT,
          nonce: page.nonce,
        }),
      });
      assert.equal(late.status, 400);
      assert.equal(late.body.error, 'invalid_nonce');
      assert.equal(hasSessionCookie(late), false);
    } finally {
      fx.clock.now = saved;
    }
  });
});

describe('page nonces', () => {
  const key = new Uint8Array(32).fill(7);
  test('read back only with their key and browser id', () => {
    const expiresAt = Date.UTC(2030, 0, 1);
    const nonce = createPageNonce(key, 'browser-a'.repeat(3), expiresAt);
    assert.equal(nonce.length, 50);
    assert.equal(readPageNonce(key, 'browser-a'.repeat(3), nonce), expiresAt);
    assert.equal(readPageNonce(key, 'browser-b'.repeat(3), nonce), null);
    assert.equal(readPageNonce(new Uint8Array(32), 'browser-a'.repeat(3), nonce), null);
    // A challenge nonce (43 characters) is never taken for a page nonce.
    assert.equal(isPageNonce('n'.repeat(43)), false);
    assert.equal(readPageNonce(key, 'browser-a'.repeat(3), `${nonce.slice(0, -1)}!`), null);
  });
});

describe('page challenges with Redis (several instances)', () => {
  const prefix = uniquePrefix();
  const opened: RedisSiteStores[] = [];
  const stores = () => {
    const s = createRedisStores(REDIS_URL, { prefix });
    opened.push(s);
    return s;
  };
  after(async () => {
    await dropRedisPrefix(prefix);
    await Promise.all(opened.map((s) => s.close()));
  });

  test('instances share the key and the handle set; a page nonce is used once across them', async () => {
    const a = stores();
    const b = stores();
    const [keysA, keysB] = await Promise.all([a.pageChallengeKeys(), b.pageChallengeKeys()]);
    assert.deepEqual(keysA, keysB);
    const expiresAt = Math.floor(Date.now() / 1000 + 60) * 1000;
    const nonce = createPageNonce(keysA.key, 'browser-a'.repeat(3), expiresAt);
    assert.equal(readPageNonce(keysB.key, 'browser-a'.repeat(3), nonce), expiresAt);
    const claims = await Promise.all([
      a.nonces.claim?.(nonce, expiresAt),
      b.nonces.claim?.(nonce, expiresAt),
    ]);
    assert.deepEqual(claims.sort(), [false, true], 'exactly one instance accepts it');
  });
});
