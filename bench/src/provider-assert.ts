// Benchmark 3: provider assertion throughput. POST /bsso/assertion for a signed-in session
// (extension Origin, session cookie), signed with an association key and with the provider
// key, against a bare Express endpoint that only looks the session up. Interleaved rounds.
// Run: npm run bench:provider -w @bsso/bench [-- --duration=10 --rounds=3 --connections=10]
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createNonce } from '@bsso/protocol';
import { makeTestPki } from '../../e2e/src/pki.ts';
import { profiled, startChild } from './lib/child.ts';
import { type LoadItem, runLoad } from './lib/load.ts';
import { machineInfo } from './lib/machine.ts';
import { associate, EXTENSION_ORIGIN, signIn } from './lib/provider-client.ts';
import { numberFlag } from './lib/report.ts';
import { interleavedRounds, reportThroughput } from './lib/throughput.ts';
import { BARE_SESSION_COOKIE } from './servers/bare.ts';

type Variant = 'bare' | 'association-key' | 'provider-key' | 'association-key-tmpfs';
const VARIANTS: readonly Variant[] = [
  'bare',
  'association-key',
  'provider-key',
  'association-key-tmpfs',
];
const ALICE = { email: 'alice@mail.test', password: 'correct horse battery staple' };
const AUDIENCE = 'https://site.test/bsso';

function items(count: number, headers: Record<string, string>, handle?: string): LoadItem[] {
  return Array.from({ length: count }, () => ({
    headers,
    body: JSON.stringify({
      email: ALICE.email,
      audience: AUDIENCE,
      nonce: createNonce(),
      ...(handle ? { handle } : {}),
    }),
  }));
}

async function main(): Promise<void> {
  const duration = numberFlag('duration', 10);
  const rounds = numberFlag('rounds', 3);
  const connections = numberFlag('connections', 10);
  const machine = machineInfo();
  const file = resolve(import.meta.dirname, 'servers/provider-server.ts');
  const provider = await startChild(file);
  // The same provider with its database on tmpfs: the cost of the disk, side by side.
  const tmpfsProvider = await startChild(file);
  try {
    const pki = makeTestPki(['mail.test']);
    const p = await provider.call<{ httpPort: number; barePort: number }>('start', {
      pki,
      ...ALICE,
    });
    const q = await tmpfsProvider.call<{ httpPort: number }>('start', {
      pki,
      ...ALICE,
      dataRoot: '/dev/shm',
    });
    const tmpfsBase = `http://127.0.0.1:${q.httpPort}`;
    const tmpfsSession = await signIn(tmpfsBase, ALICE.email, ALICE.password);
    const tmpfsHandle = await associate(tmpfsBase, 'https://site.test');
    const base = `http://127.0.0.1:${p.httpPort}`;
    const session = await signIn(base, ALICE.email, ALICE.password);
    const handle = await associate(base, 'https://site.test');
    const bareId = randomBytes(32).toString('base64url');
    await provider.call('addBareSession', { id: bareId, email: ALICE.email });
    const json = { 'content-type': 'application/json', origin: EXTENSION_ORIGIN };
    // Nonces only have to be well formed at the provider: a pool may repeat.
    const pool: Record<Variant, LoadItem[]> = {
      bare: items(20_000, { ...json, cookie: `${BARE_SESSION_COOKIE}=${bareId}` }),
      'association-key': items(20_000, { ...json, cookie: session }, handle),
      'provider-key': items(20_000, { ...json, cookie: session }),
      'association-key-tmpfs': items(20_000, { ...json, cookie: tmpfsSession }, tmpfsHandle),
    };
    const target: Record<Variant, { url: string; path: string }> = {
      bare: { url: `http://127.0.0.1:${p.barePort}`, path: '/bare' },
      'association-key': { url: base, path: '/bsso/assertion' },
      'provider-key': { url: base, path: '/bsso/assertion' },
      'association-key-tmpfs': { url: tmpfsBase, path: '/bsso/assertion' },
    };
    const run = async (v: Variant, seconds: number) => {
      const server = v === 'association-key-tmpfs' ? tmpfsProvider : provider;
      const r = await profiled(server, `provider-${v}`, () =>
        runLoad({
          ...target[v],
          items: pool[v],
          durationSeconds: seconds,
          connections,
          okStatus: 200,
        }),
      );
      const bad = Object.keys(r.statusCodes).filter((c) => c !== '200');
      if (bad.length > 0 || r.errors > 0) console.warn(`${v}: ${JSON.stringify(r.statusCodes)}`);
      return r;
    };
    for (const v of VARIANTS) await run(v, 2);
    const results = await interleavedRounds(VARIANTS, rounds, (v) => run(v, duration));
    reportThroughput({
      name: 'provider-assert',
      title: 'Provider assertion throughput',
      variants: VARIANTS,
      results,
      machine,
      durationSeconds: duration,
      rounds,
      connections,
    });
  } finally {
    await tmpfsProvider.stop();
    await provider.stop();
  }
}

await main();
