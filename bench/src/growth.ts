// Benchmark 5: growth. Assertion latency (association key and provider key) and direct
// verification latency at providers holding 1k, 100k and 1M accounts (plus a session for
// every tenth account) and 10k associations, measured in interleaved batches: should be flat.
// Accounts are bulk-inserted into the provider's SQLite with one precomputed password hash.
// Run: npm run bench:growth -w @bsso/bench [-- --rounds=10 --batch=50 --sizes=1000,100000,1000000]
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createProvider, DATABASE_FILE, type Provider, silentLogger } from '@bsso/email-provider';
import { createNonce } from '@bsso/protocol';
import { Agent, request } from 'undici';
import { machineInfo } from './lib/machine.ts';
import { associate, EXTENSION_ORIGIN, signIn } from './lib/provider-client.ts';
import { numberFlag, printTable, writeResult } from './lib/report.ts';
import { type Summary, shuffled, summarize } from './lib/stats.ts';

const ALICE = { email: 'alice@mail.test', password: 'correct horse battery staple' };
const AUDIENCE = 'https://site.test/bsso';
const ASSOCIATIONS = 10_000;

function sizesFlag(): number[] {
  const arg = process.argv.find((a) => a.startsWith('--sizes='));
  const sizes = (arg?.slice(8) ?? '1000,100000,1000000').split(',').map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new TypeError('bad --sizes');
  return sizes;
}

/** Fills the provider's database directly: accounts, sessions and associations. */
function bulkInsert(dataDir: string, accounts: number): void {
  const db = new DatabaseSync(join(dataDir, DATABASE_FILE));
  try {
    const row = db.prepare('SELECT password_hash FROM accounts WHERE email = ?').get(ALICE.email);
    const hash = String(row?.password_hash);
    const now = Date.now();
    db.exec('BEGIN');
    const account = db.prepare(
      'INSERT INTO accounts (email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)',
    );
    const session = db.prepare(
      'INSERT INTO sessions (id_hash, email, created_at, last_seen_at) VALUES (?, ?, ?, ?)',
    );
    for (let i = 1; i < accounts; i++) {
      const email = `user${i}@mail.test`;
      account.run(email, hash, now, now);
      if (i % 10 === 0) session.run(randomBytes(32).toString('base64url'), email, now, now);
    }
    const association = db.prepare(
      'INSERT INTO associations (handle, secret, site, created_at, expires_at, invalidated) VALUES (?, ?, ?, ?, ?, 0)',
    );
    for (let i = 0; i < ASSOCIATIONS; i++) {
      association.run(
        randomBytes(16).toString('base64url'),
        randomBytes(32),
        `https://site${i}.example`,
        now,
        now + 86_400_000,
      );
    }
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

interface Instance {
  accounts: number;
  dataDir: string;
  provider: Provider;
  server: Server;
  base: string;
  cookie: string;
  handle: string;
  dbBytes: number;
}

async function providerWith(accounts: number): Promise<Instance> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bsso-bench-growth-'));
  const config = {
    issuer: 'https://mail.test',
    domains: ['mail.test'],
    dataDir,
    logger: silentLogger,
    sweepIntervalMs: 0,
  };
  const first = await createProvider(config);
  await first.accounts.create(ALICE.email, ALICE.password);
  await first.close();
  const started = performance.now();
  bulkInsert(dataDir, accounts);
  console.log(`${accounts} accounts inserted in ${Math.round(performance.now() - started)} ms`);
  const provider = await createProvider(config);
  const server = createServer(provider.app);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    accounts,
    dataDir,
    provider,
    server,
    base,
    cookie: await signIn(base, ALICE.email, ALICE.password),
    handle: await associate(base, 'https://site.test'),
    dbBytes: statSync(join(dataDir, DATABASE_FILE)).size,
  };
}

type Measure = 'assertionAssociationKey' | 'assertionProviderKey' | 'directVerification';
const MEASURES: readonly Measure[] = [
  'assertionAssociationKey',
  'assertionProviderKey',
  'directVerification',
];

async function timedPost(
  dispatcher: Agent,
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ ms: number; json: Record<string, unknown> }> {
  const t0 = performance.now();
  const res = await request(url, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.body.json()) as Record<string, unknown>;
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${JSON.stringify(json)}`);
  return { ms, json };
}

async function batch(
  dispatcher: Agent,
  p: Instance,
  n: number,
  into: Record<Measure, number[]>,
): Promise<void> {
  const headers = { origin: EXTENSION_ORIGIN, cookie: p.cookie };
  const ask = (handle?: string) => ({
    email: ALICE.email,
    audience: AUDIENCE,
    nonce: createNonce(),
    ...(handle ? { handle } : {}),
  });
  for (let i = 0; i < n; i++) {
    const a = await timedPost(dispatcher, `${p.base}/bsso/assertion`, headers, ask(p.handle));
    into.assertionAssociationKey.push(a.ms);
    const b = await timedPost(dispatcher, `${p.base}/bsso/assertion`, headers, ask());
    into.assertionProviderKey.push(b.ms);
    const v = await timedPost(
      dispatcher,
      `${p.base}/bsso/verify`,
      {},
      {
        assertion: b.json.assertion,
      },
    );
    into.directVerification.push(v.ms);
  }
}

async function main(): Promise<void> {
  const rounds = numberFlag('rounds', 10);
  const batchSize = numberFlag('batch', 50);
  const machine = machineInfo();
  const instances: Instance[] = [];
  const dispatcher = new Agent({ keepAliveTimeout: 60_000 });
  try {
    for (const size of sizesFlag()) instances.push(await providerWith(size));
    const empty = (): Record<Measure, number[]> => ({
      assertionAssociationKey: [],
      assertionProviderKey: [],
      directVerification: [],
    });
    const samples = new Map<Instance, Record<Measure, number[]>>(
      instances.map((p) => [p, empty()]),
    );
    const of = (p: Instance) => samples.get(p) ?? empty();
    for (const p of instances) await batch(dispatcher, p, 20, empty());
    for (let r = 0; r < rounds; r++) {
      for (const p of shuffled(instances)) await batch(dispatcher, p, batchSize, of(p));
      process.stdout.write(`\rround ${r + 1}/${rounds}`);
    }
    process.stdout.write('\n');
    const rows = instances.map((p) => {
      const s = of(p);
      const summary = Object.fromEntries(MEASURES.map((m) => [m, summarize(s[m])])) as Record<
        Measure,
        Summary
      >;
      return { accounts: p.accounts, associations: ASSOCIATIONS, dbBytes: p.dbBytes, summary };
    });
    printTable(
      `Latency by provider size (ms, ${rounds * batchSize} sequential requests each, interleaved)`,
      rows.map((r) => ({
        accounts: r.accounts,
        'db MB': r.dbBytes / 2 ** 20,
        'assoc-key p50': r.summary.assertionAssociationKey.median,
        'assoc-key p95': r.summary.assertionAssociationKey.p95,
        'provider-key p50': r.summary.assertionProviderKey.median,
        'provider-key p95': r.summary.assertionProviderKey.p95,
        'verify p50': r.summary.directVerification.median,
        'verify p95': r.summary.directVerification.p95,
      })),
    );
    const smallest = rows[0];
    const largest = rows.at(-1);
    const growth =
      smallest && largest
        ? Object.fromEntries(
            MEASURES.map((m) => [m, largest.summary[m].median / smallest.summary[m].median]),
          )
        : {};
    printTable(
      'Largest over smallest (median)',
      Object.entries(growth).map(([k, v]) => ({ measure: k, ratio: v })),
    );
    writeResult('growth', machine, { rounds, batchSize, unit: 'ms', sizes: rows, growth });
  } finally {
    await dispatcher.close();
    for (const p of instances) {
      p.server.closeAllConnections();
      p.server.close();
      await p.provider.close();
      rmSync(p.dataDir, { recursive: true, force: true });
    }
  }
}

await main();
