// Operations endpoints (endpoints/operations.ts): liveness, readiness against real stores
// (SQLite; PostgreSQL + Redis with Redis cut by a TCP proxy), and /metrics: absent by
// default, refused without its bearer token, and counting what the provider did.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  dropRedisPrefix,
  REDIS_URL,
  type TcpProxy,
  tcpProxy,
  uniqueName,
  waitUntil,
} from '@bsso/protocol/testing';
import {
  AUDIENCE,
  Browser,
  nonce,
  PASSWORD,
  postJson,
  type Running,
  removeDir,
  SITE,
  startProvider,
} from './helpers.ts';
import { DATABASE_URL, dropSchema } from './services.ts';

const ALICE = 'alice@mail.test';
const TOKEN = 'metrics-token-0123456789abcdef0123456789';

/** The value of one sample line of the Prometheus text, 0 when absent. */
function sample(text: string, line: string): number {
  for (const l of text.split('\n')) {
    if (l.startsWith(`${line} `)) return Number(l.slice(line.length + 1));
  }
  return 0;
}

describe('health, readiness and metrics (SQLite)', () => {
  let p: Running;
  before(async () => {
    p = await startProvider({ metricsToken: TOKEN });
    await p.provider.accounts.create(ALICE, PASSWORD);
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  it('/healthz answers 200 and /readyz names the store that answered', async () => {
    const health = await fetch(`${p.base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${p.base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', stores: { sqlite: 'ok' } });
  });

  it('/metrics refuses a request without the token or with another one', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const res = await fetch(
        `${p.base}/metrics`,
        authorization ? { headers: { authorization } } : {},
      );
      assert.equal(res.status, 401, String(authorization));
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
      const body = (await res.json()) as { error: string };
      assert.equal(body.error, 'unauthorized');
    }
  });

  it('/metrics counts sign-ins, failures, assertions, associations, verifications', async () => {
    const b = new Browser(p.base);
    assert.equal((await b.signIn(ALICE, 'wrong password')).status, 401);
    assert.equal((await b.signIn(ALICE, PASSWORD)).status, 303);
    const asked = await b.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
    const { assertion } = (await asked.json()) as { assertion: string };
    assert.equal((await postJson(p.base, '/bsso/association', { site: SITE })).status, 200);
    assert.equal((await postJson(p.base, '/bsso/verify', { assertion })).status, 200);
    assert.equal((await postJson(p.base, '/bsso/verify', { assertion })).status, 400);
    const res = await fetch(`${p.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.equal(sample(text, 'bsso_signins_total{backend="builtin"}'), 1);
    assert.equal(sample(text, 'bsso_signin_failures_total{reason="invalid_credentials"}'), 1);
    assert.equal(sample(text, 'bsso_assertions_issued_total{key="provider"}'), 1);
    assert.equal(sample(text, 'bsso_associations_created_total'), 1);
    assert.equal(sample(text, 'bsso_direct_verifications_total{result="valid"}'), 1);
    assert.equal(sample(text, 'bsso_direct_verifications_total{result="assertion_replayed"}'), 1);
    assert.equal(
      sample(
        text,
        'bsso_http_request_duration_seconds_count{endpoint="/bsso/assertion",method="POST",status="200"}',
      ),
      1,
    );
    assert.ok(text.includes('process_cpu_seconds_total'), 'process metrics');
    // No label carries an address or a site.
    assert.ok(!text.includes(ALICE) && !text.includes('site.test'));
  });
});

describe('metrics off (the default)', () => {
  it('/metrics does not exist; a short token is refused at start', async () => {
    const p = await startProvider();
    try {
      const res = await fetch(`${p.base}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 404);
    } finally {
      await p.stop();
      await removeDir(p.dataDir);
    }
    await assert.rejects(startProvider({ metricsToken: 'short' }), /metricsToken/);
  });
});

describe('readiness with PostgreSQL and Redis', () => {
  const name = uniqueName();
  let redis: TcpProxy;
  let p: Running;
  before(async () => {
    redis = await tcpProxy(Number(new URL(REDIS_URL).port || 6379));
    p = await startProvider({
      databaseUrl: DATABASE_URL,
      databaseSchema: name,
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      redisKeyPrefix: `${name}:`,
      metricsToken: TOKEN,
    });
  });
  after(async () => {
    await p.stop();
    await redis.close();
    await dropSchema(name);
    await dropRedisPrefix(`${name}:`);
    await removeDir(p.dataDir);
  });

  it('is ready while both answer, 503 naming Redis when it is cut, ready again after', async () => {
    const ready = await fetch(`${p.base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 'ready',
      stores: { postgresql: 'ok', redis: 'ok' },
    });
    redis.cut();
    const down = await fetch(`${p.base}/readyz`);
    assert.equal(down.status, 503);
    const body = (await down.json()) as Record<string, unknown>;
    assert.deepEqual(body, {
      error: 'store_unavailable',
      error_description: 'Not answering: redis.',
      stores: { postgresql: 'ok', redis: 'unavailable' },
    });
    // A request that needs Redis fails (500) and is counted as a store error.
    const b = new Browser(p.base);
    const failed = await b.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
    assert.equal(failed.status, 500);
    const metrics = await (
      await fetch(`${p.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    assert.ok(
      /^bsso_store_errors_total\{store="rate_limit_assertionClient",operation="\w+"\} [1-9]/m.test(
        metrics,
      ),
      metrics
        .split('\n')
        .filter((l) => l.startsWith('bsso_store'))
        .join('\n'),
    );
    redis.restore();
    // The client reconnects on its own; readiness follows without a restart.
    await waitUntil(async () => (await fetch(`${p.base}/readyz`)).status === 200);
  });
});
