// Faults and load with real servers (threats 30, 32-34, 36-40): the real provider behind a
// fault switch, real site instances built with bsso(), injected clocks on both sides.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeAssertion, randomToken } from '@bsso/protocol';
import {
  type Answer,
  type AttackWorld,
  ENDPOINT,
  hasSession,
  PROVIDER,
  ProviderUser,
  SiteBrowser,
  type SiteInstance,
  startAttackWorld,
} from '../src/attack-world.ts';
import type { Fault } from '../src/faults.ts';

const ALICE = 'alice@mail.test';
const PASSWORD = 'correct horse battery staple';

async function world(options: Parameters<typeof startAttackWorld>[0] = {}) {
  const w = await startAttackWorld(options);
  await w.provider.accounts.create(ALICE, PASSWORD);
  const user = new ProviderUser();
  await user.signIn(ALICE, PASSWORD);
  return { w, user };
}

/** A rejection: its code and status, no session, and no S2S call beyond `allowedS2S`. */
function rejected(w: AttackWorld, a: Answer, code: string, status: number, s2s: string[] = []) {
  assert.equal(a.body.error, code, a.text);
  assert.equal(a.status, status);
  assert.equal(hasSession(a), false, 'no session cookie');
  assert.deepEqual(w.providerLog.serverToServer(), s2s, 'server-to-server calls');
}

describe('threats 30, 32, 33: provider faults during direct verification', () => {
  let w: AttackWorld;
  let user: ProviderUser;
  const timeoutMs = 400;
  before(async () => {
    ({ w, user } = await world({
      site: { verification: 'direct', outbound: { timeoutMs, retries: 1 } },
    }));
    // Warm: one good sign-in caches discovery.
    const b = new SiteBrowser(w.site);
    const a = await b.deliver(await user.assertionFor(ALICE, await b.challenge()));
    assert.equal(a.status, 303, a.text);
  });
  after(() => w?.close());

  async function deliverUnder(fault: Fault): Promise<{ a: Answer; ms: number }> {
    const b = new SiteBrowser(w.site);
    const assertion = await user.assertionFor(ALICE, await b.challenge());
    w.faults.set('/bsso/verify', fault);
    w.providerLog.clear();
    w.faults.hits.length = 0;
    const started = performance.now();
    const a = await b.deliver(assertion);
    const ms = performance.now() - started;
    w.faults.clear();
    await w.faults.drained();
    assert.equal(await b.me(), null, 'not signed in');
    return { a, ms };
  }

  for (const fault of ['garbage', 'not-json', 'huge', 'huge-declared', 'error500'] as const) {
    test(`threat 30: answer ${fault} -> 502 provider_error, no retry, no session`, async () => {
      const { a } = await deliverUnder(fault);
      rejected(w, a, 'provider_error', 502, ['/bsso/verify']);
      assert.equal(w.faults.count('/bsso/verify'), 1);
    });
  }

  test('threat 30: slow drip -> 504 provider_timeout within the budget, socket closed', async () => {
    const { a, ms } = await deliverUnder('drip');
    rejected(w, a, 'provider_timeout', 504, ['/bsso/verify']);
    assert.ok(ms < timeoutMs * 5, `answered in ${ms} ms`);
  });

  test('threat 33: no answer -> 504 within the budget, no hung socket', async () => {
    const { a, ms } = await deliverUnder('hang');
    rejected(w, a, 'provider_timeout', 504, ['/bsso/verify']);
    assert.ok(ms < timeoutMs * 5, `answered in ${ms} ms`);
    assert.equal(w.faults.open.size, 0);
  });

  test('threat 32: provider down -> 503 provider_unavailable after exactly 1 retry', async () => {
    const { a } = await deliverUnder('down');
    rejected(w, a, 'provider_unavailable', 503, ['/bsso/verify', '/bsso/verify']);
    assert.equal(w.faults.count('/bsso/verify'), 2, 'one attempt plus one bounded retry');
  });

  test('threat 30: a faulty association endpoint leaves sign-in to direct verification', async () => {
    const b = new SiteBrowser(w.site);
    const c = await b.challenge();
    assert.equal(c.status, 200);
    assert.equal(c.body.handle, undefined, 'direct mode never associates');
  });
});

describe('threat 30: faulty association answers in association mode', () => {
  let w: AttackWorld;
  let user: ProviderUser;
  before(async () => {
    ({ w, user } = await world({ site: { outbound: { timeoutMs: 400 } } }));
  });
  after(() => w?.close());

  for (const fault of ['huge', 'drip', 'not-json', 'down'] as const) {
    test(`association answer ${fault}: challenge without handle, sign-in verifies directly`, async () => {
      w.faults.set('/bsso/association', fault);
      const b = new SiteBrowser(w.site);
      const c = await b.challenge();
      w.faults.clear();
      await w.faults.drained();
      assert.equal(c.status, 200);
      assert.equal(c.body.handle, undefined);
      assert.equal(await w.site.core.stores.associations.get(PROVIDER), null);
      const a = await b.deliver(await user.assertionFor(ALICE, c));
      assert.equal(a.status, 303, a.text);
    });
  }
});

describe('threat 34: an association expires mid-flight', () => {
  let w: AttackWorld;
  let user: ProviderUser;
  before(async () => {
    // Discovery stays cached across the hour the clocks jump, so only the association ages.
    const discovery = { cacheTtlSeconds: 86_400 };
    ({ w, user } = await world({ site: { discovery } }));
  });
  after(() => w?.close());

  const advance = (ms: number) => {
    w.siteClock.ms += ms;
    w.providerClock.ms += ms;
  };

  test('expired at the provider before signing: provider key + invalidate_handle, accepted', async () => {
    const b = new SiteBrowser(w.site);
    const c = await b.challenge();
    const handle = String(c.body.handle);
    advance(3601_000); // past the association, not past the nonce's use below
    const c2 = await b.challenge(); // the site renews; the extension still holds the old handle
    const assertion = await user.assertionFor(ALICE, c2, handle);
    const { header, claims } = decodeAssertion(assertion);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(claims.invalidate_handle, handle);
    w.providerLog.clear();
    const a = await b.deliver(assertion);
    assert.equal(a.status, 303, a.text);
    assert.deepEqual(w.providerLog.serverToServer(), ['/bsso/verify']);
  });

  test('expired at the site after signing: association_expired, never accepted', async () => {
    const b = new SiteBrowser(w.site);
    const first = await b.challenge();
    const oldHandle = String(first.body.handle);
    advance(3570_000); // 30 s left: this challenge renews in the background
    const during = await b.challenge();
    assert.equal(during.body.handle, oldHandle, 'answered at once with the live key');
    await w.site.core.associations.settled(); // the old key stays as previous
    const c = await b.challenge();
    assert.notEqual(c.body.handle, oldHandle);
    const assertion = await user.assertionFor(ALICE, c, oldHandle);
    assert.equal(decodeAssertion(assertion).header.kid, oldHandle, 'signed with the old key');
    advance(40_000); // the old key expires while the assertion is on its way
    w.providerLog.clear();
    rejected(w, await b.deliver(assertion), 'association_expired', 400);
    assert.equal(await b.me(), null);
  });
});

describe('threat 36: a provider restart keeps associations', () => {
  let w: AttackWorld;
  let user: ProviderUser;
  before(async () => {
    ({ w, user } = await world());
  });
  after(() => w?.close());

  test('createProvider again on the same data directory, then the site verifies locally', async () => {
    const b = new SiteBrowser(w.site);
    const c = await b.challenge();
    const handle = String(c.body.handle);
    await w.restartProvider();
    const assertion = await user.assertionFor(ALICE, c);
    assert.equal(decodeAssertion(assertion).header.kid, handle, 'the persisted association');
    w.providerLog.clear();
    const a = await b.deliver(assertion);
    assert.equal(a.status, 303, a.text);
    assert.deepEqual(w.providerLog.serverToServer(), [], 'verified locally');
    assert.equal(w.providerLog.count('/bsso/association'), 0);
  });
});

describe('threat 37: clock skew between provider and site', () => {
  let w: AttackWorld;
  let user: ProviderUser;
  before(async () => {
    ({ w, user } = await world());
  });
  after(() => w?.close());

  async function signInWithProviderAt(offsetMs: number): Promise<Answer> {
    w.providerClock.ms = w.siteClock.ms + offsetMs;
    const b = new SiteBrowser(w.site);
    const assertion = await user.assertionFor(ALICE, await b.challenge());
    w.providerLog.clear();
    return b.deliver(assertion);
  }

  test('inside the tolerance: accepted (provider 50 s ahead, 170 s behind)', async () => {
    assert.equal((await signInWithProviderAt(50_000)).status, 303);
    assert.equal((await signInWithProviderAt(-170_000)).status, 303);
  });

  test('outside: clock_skew when 70 s ahead, assertion_expired when 190 s behind', async () => {
    rejected(w, await signInWithProviderAt(70_000), 'clock_skew', 400);
    rejected(w, await signInWithProviderAt(-190_000), 'assertion_expired', 400);
  });
});

describe('threat 38: the provider invalidates a handle', () => {
  let w: AttackWorld;
  let user: ProviderUser;
  before(async () => {
    ({ w, user } = await world());
  });
  after(() => w?.close());

  test('the site purges it on the next sign-in, and the one after is local again', async () => {
    const b = new SiteBrowser(w.site);
    const c = await b.challenge();
    const handle = String(c.body.handle);
    assert.equal(await w.provider.associations.invalidate(handle), true);
    w.providerLog.clear();
    const a = await b.deliver(await user.assertionFor(ALICE, c));
    assert.equal(a.status, 303, a.text);
    assert.deepEqual(w.providerLog.serverToServer(), ['/bsso/verify']);
    assert.equal(await w.site.core.stores.associations.get(PROVIDER), null, 'purged');

    const c2 = await b.challenge();
    assert.ok(c2.body.handle && c2.body.handle !== handle, 'a new association');
    w.providerLog.clear();
    const a2 = await b.deliver(await user.assertionFor(ALICE, c2));
    assert.equal(a2.status, 303, a2.text);
    assert.deepEqual(w.providerLog.serverToServer(), []);
  });
});

describe('threat 39: concurrent sign-ins across two instances sharing a store', () => {
  let w: AttackWorld;
  let user: ProviderUser;
  let two: SiteInstance;
  before(async () => {
    ({ w, user } = await world());
    two = await w.startSite({ stores: w.site.core.stores });
  });
  after(() => w?.close());

  test('one association in use, every sign-in once, double submits accepted once', async () => {
    const n = 20;
    const one = w.site;
    const browsers = Array.from({ length: n }, (_, i) => new SiteBrowser(i % 2 ? two : one));
    const challenges = await Promise.all(browsers.map((b) => b.challenge()));
    assert.ok(challenges.every((c) => c.status === 200));
    assert.equal(new Set(challenges.map((c) => c.body.handle)).size, 1, 'one handle handed out');
    assert.ok(w.providerLog.count('/bsso/association') <= 2, 'at most one per instance');
    const assertions = await Promise.all(challenges.map((c) => user.assertionFor(ALICE, c)));
    w.providerLog.clear();
    // Every assertion is submitted twice at once, to both instances, from its browser.
    const results = await Promise.all(
      browsers.map(async (b, i) => {
        const twice = [one, two].map((site) => {
          const copy = new SiteBrowser(site);
          for (const [k, v] of b.jar.cookies) copy.jar.cookies.set(k, v);
          return copy.deliver(assertions[i] ?? '');
        });
        return Promise.all(twice);
      }),
    );
    for (const pair of results) {
      const statuses = pair.map((a) => a.status).sort();
      assert.deepEqual(statuses, [303, 400], 'accepted exactly once');
      assert.equal(pair.find((a) => a.status === 400)?.body.error, 'invalid_nonce');
      assert.equal(pair.filter(hasSession).length, 1);
    }
    assert.deepEqual(w.providerLog.serverToServer(), [], 'all verified locally');
  });
});

describe('threat 40: floods', () => {
  test('garbage deliveries: rate-limited per client, no outbound call at all', async () => {
    const { w, user } = await world();
    try {
      const b = new SiteBrowser(w.site);
      const c = await b.challenge(); // warms discovery and the association
      const stray = await user.assertionFor(ALICE, { ...c, body: { nonce: randomToken(32) } });
      w.providerLog.clear();
      const codes: string[] = [];
      for (let i = 0; i < 130; i++) {
        const garbage = i % 2 ? stray : `${randomToken(20)}.${randomToken(40)}.${randomToken(10)}`;
        const a = await b.deliver(garbage);
        assert.equal(hasSession(a), false);
        codes.push(String(a.body.error));
      }
      assert.equal(codes.filter((x) => x === 'rate_limited').length, 130 - 119);
      assert.ok(
        codes.slice(0, 119).every((x) => x === 'invalid_assertion' || x === 'invalid_nonce'),
      );
      assert.deepEqual(w.providerLog.serverToServer(), [], 'no amplification');
    } finally {
      await w.close();
    }
  });

  test('unknown slow domains: outbound concurrency capped, failures cached, per-client limit', async () => {
    // Discoveries have their own slots (3 here); a look-up that cannot get one within the
    // time budget is refused without going out (threat 49).
    const names = Array.from({ length: 12 }, (_, i) => `n${i}.flood.test`);
    let open = 0;
    let peak = 0;
    let requests = 0;
    const perHost = new Map<string, number>();
    const hang = (req: IncomingMessage, res: ServerResponse) => {
      requests++;
      const host = req.headers.host ?? '';
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      peak = Math.max(peak, ++open);
      res.on('close', () => open--);
    };
    const w = await startAttackWorld({
      site: { outbound: { timeoutMs: 300, maxDiscoveryConcurrency: 3 }, rateLimiter: false },
      extraSites: Object.fromEntries(names.map((n) => [n, hang])),
    });
    try {
      const b = new SiteBrowser(w.site);
      const first = await Promise.all(names.map((n) => b.challenge(n)));
      assert.ok(first.every((c) => c.status === 200 && c.body.handle === undefined));
      const looked = requests;
      assert.ok(looked >= 3 && looked <= names.length, `at most one look-up per domain: ${looked}`);
      assert.ok(peak <= 3, `peak outbound concurrency ${peak}`);
      const again = await Promise.all(names.map((n) => b.challenge(n)));
      assert.ok(again.every((c) => c.status === 200));
      // A domain that failed is remembered: never asked twice. A domain the site's own busy
      // queue refused was not asked at all, so it may be asked now.
      assert.ok(
        [...perHost.values()].every((n) => n === 1),
        `each domain asked at most once: ${JSON.stringify([...perHost])}`,
      );
      assert.ok(requests >= looked);

      const limited = await w.startSite({
        outbound: { timeoutMs: 300 },
        discovery: { failureCacheSeconds: 0 },
        rateLimiter: (await import('@bsso/relying-site')).createMemoryRequestRateLimiter({
          max: 5,
        }),
      });
      const before = requests;
      const lb = new SiteBrowser(limited);
      const answers = await Promise.all(names.slice(0, 10).map((n) => lb.challenge(n)));
      const refused = answers.filter((a) => a.status === 429);
      assert.equal(refused.length, 5);
      assert.ok(refused.every((a) => a.body.error === 'rate_limited'));
      assert.ok(requests - before <= 5, 'refused challenges made no outbound call');
    } finally {
      await w.close();
    }
  });
});

// Keeps ENDPOINT referenced for readers: every assertion above names it as its audience.
assert.equal(ENDPOINT, 'https://site.test/bsso');
