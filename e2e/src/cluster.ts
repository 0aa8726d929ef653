// Several provider and site instances, each its own process (instance.ts), sharing one
// PostgreSQL schema and one Redis key prefix made for this run and removed by close().
// The sites reach https://mail.test through a round-robin balancer; load clients address
// the instances directly (load.ts) and take one out of rotation before stopping it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createProvider, dropPostgresSchema, silentLogger } from '@bsso/email-provider';
import { createRedisStores } from '@bsso/relying-site/core';
import { type Balancer, startBalancer } from './balancer.ts';
import type { InstanceSettings } from './instance.ts';
import { makeTestPki, type TestPki } from './pki.ts';
import { PROVIDER_NAME, SITE_ENDPOINT, SITE_NAME } from './topology.ts';

export const DATABASE_URL =
  process.env.BSSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BSSO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export class Instance {
  readonly role: 'provider' | 'site';
  readonly name: string;
  readonly index: number;
  port = 0;
  /** In rotation: load clients send new requests here. */
  live = false;
  restarts = 0;
  /** Requests answered since the last (re)start. */
  served = 0;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  process: ChildProcess | undefined;

  constructor(role: 'provider' | 'site', index: number) {
    this.role = role;
    this.name = role === 'provider' ? PROVIDER_NAME : SITE_NAME;
    this.index = index;
  }

  /** Wraps one request to this instance so draining can wait for it. */
  async track<T>(run: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      const answer = await run();
      this.served++;
      return answer;
    } finally {
      if (--this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** Resolves when no request to this instance is under way. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}

export interface Cluster {
  pki: TestPki;
  providers: Instance[];
  sites: Instance[];
  balancer: Balancer;
  /** Accounts at the provider, all with `password`. */
  accounts: string[];
  password: string;
  /** Live instances of a role, round robin; `avoid` is skipped when another is live. */
  pick(role: 'provider' | 'site', avoid?: Instance): Instance;
  /**
   * Takes `instance` out of rotation, waits for its requests, stops it with `signal`
   * (SIGKILL: a crash, nothing flushed) and starts a new process on the same port.
   */
  restart(instance: Instance, signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  providers?: number;
  sites?: number;
  accounts?: number;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const run = `bsso_m${process.pid}_${randomBytes(4).toString('hex')}`;
  const pki = makeTestPki([PROVIDER_NAME, SITE_NAME]);
  const dataDir = mkdtempSync(join(tmpdir(), 'bsso-cluster-'));
  const password = 'load test password';
  const shared = {
    databaseUrl: DATABASE_URL,
    databaseSchema: run,
    redisUrl: REDIS_URL,
    redisKeyPrefix: `${run}:provider:`,
  };
  // Migrates the schema, writes the signing key every instance shares, makes the accounts.
  const seed = await createProvider({
    issuer: `https://${PROVIDER_NAME}`,
    domains: [PROVIDER_NAME],
    dataDir,
    logger: silentLogger,
    sweepIntervalMs: 0,
    ...shared,
  });
  const accounts = Array.from({ length: options.accounts ?? 4 }, (_, i) => `user${i}@mail.test`);
  try {
    await Promise.all(accounts.map((a) => seed.accounts.create(a, password)));
  } finally {
    await seed.close();
  }

  const providers = Array.from(
    { length: options.providers ?? 2 },
    (_, i) => new Instance('provider', i),
  );
  const sites = Array.from({ length: options.sites ?? 2 }, (_, i) => new Instance('site', i));
  const balancer = await startBalancer([]);
  const settings = (instance: Instance): InstanceSettings => ({
    role: instance.role,
    name: instance.name,
    port: instance.port,
    pki,
    redisUrl: REDIS_URL,
    redisPrefix: instance.role === 'provider' ? shared.redisKeyPrefix : `${run}:site:`,
    databaseUrl: DATABASE_URL,
    databaseSchema: run,
    dataDir,
    providerName: PROVIDER_NAME,
    providerPort: balancer.port,
    siteEndpoint: SITE_ENDPOINT,
  });

  const launch = async (instance: Instance): Promise<void> => {
    const child = spawn(
      process.execPath,
      ['--conditions=bsso-source', join(import.meta.dirname, 'instance.ts')],
      {
        env: { ...process.env, BSSO_INSTANCE: JSON.stringify(settings(instance)) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    instance.process = child;
    const lines = createInterface({ input: child.stdout });
    const ready = new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        const m = /^ready (\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`${instance.role} exited with ${code}`)));
    });
    instance.port = await ready;
    instance.served = 0;
    instance.live = true;
    if (instance.role === 'provider') balancer.backends.add(instance.port);
  };

  const stop = async (instance: Instance, signal: NodeJS.Signals): Promise<void> => {
    const child = instance.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };

  try {
    await Promise.all([...providers, ...sites].map(launch));
  } catch (err) {
    await Promise.all([...providers, ...sites].map((i) => stop(i, 'SIGKILL')));
    throw err;
  }

  const turns = { provider: 0, site: 0 };
  return {
    pki,
    providers,
    sites,
    balancer,
    accounts,
    password,
    pick(role, avoid) {
      const all = (role === 'provider' ? providers : sites).filter((i) => i.live);
      const others = all.filter((i) => i !== avoid);
      const pool = others.length > 0 ? others : all;
      const chosen = pool[turns[role]++ % pool.length];
      if (!chosen) throw new Error(`no live ${role} instance`);
      return chosen;
    },
    async restart(instance, signal = 'SIGTERM') {
      instance.live = false;
      balancer.backends.delete(instance.port);
      await instance.idle();
      await stop(instance, signal);
      await launch(instance);
      instance.restarts++;
    },
    async close() {
      await Promise.all([...providers, ...sites].map((i) => stop(i, 'SIGTERM')));
      await balancer.close();
      rmSync(dataDir, { recursive: true, force: true });
      await dropPostgresSchema(DATABASE_URL, run);
      const redis = createRedisStores(REDIS_URL, { prefix: `${run}:` });
      try {
        for await (const keys of redis.client.scanIterator({ MATCH: `${run}:*`, COUNT: 1000 })) {
          if (keys.length > 0) await redis.client.del(keys);
        }
      } finally {
        await redis.close();
      }
    },
  };
}
