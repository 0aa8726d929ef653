// The running program's life: graceful shutdown on SIGTERM (a request in flight completes
// and its issued-assertion log row is there after a restart), signing key rotation without
// a restart (rotate-keys, then SIGHUP), and the users CLI's sessions and end-sessions. Real
// child processes, real SQLite; ordering by log lines and protocol events, never by sleeps.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { decodeAssertion } from '@bsso/protocol';
import { dropRedisPrefix, REDIS_URL, uniqueName } from '@bsso/protocol/testing';
import { SIGNING_KEYS_FILE } from '../src/index.ts';
import {
  AUDIENCE,
  Browser,
  EXTENSION_ORIGIN,
  nonce,
  PASSWORD,
  postJson,
  removeDir,
  SITE,
  startProvider,
  tempDir,
} from './helpers.ts';
import { mainEnv, runUsers, startMain } from './processes.ts';
import { DATABASE_URL, dropSchema } from './services.ts';

const ALICE = 'alice@mail.test';
const BOB = 'bob@mail.test';

async function addAccount(dataDir: string, email: string): Promise<void> {
  const added = await runUsers(['add', email], mainEnv(dataDir), `${PASSWORD}\n`);
  assert.equal(added.code, 0, added.err);
}

async function assertion(b: Browser): Promise<string> {
  const res = await b.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
  assert.equal(res.status, 200);
  return ((await res.json()) as { assertion: string }).assertion;
}

/** Rows of Alice's issued-assertion log in the SQLite file. */
function countRows(dataDir: string): number {
  const db = new DatabaseSync(join(dataDir, 'provider.sqlite'), { readOnly: true });
  try {
    const row = db
      .prepare('SELECT COUNT(*) AS n FROM issued_assertions WHERE email = ?')
      .get(ALICE);
    return Number(row?.n);
  } finally {
    db.close();
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

interface SlowRequest {
  /** Resolves when the server has read the headers and handed the request to the app. */
  started: Promise<void>;
  answer: Promise<{ status: number; body: string; connection: string | undefined }>;
  /** Sends the body; resolves with the answer. */
  finish(): Promise<{ status: number; body: string; connection: string | undefined }>;
}

/**
 * An assertion request whose body is held back: with `Expect: 100-continue` the server
 * answers 100 once it has the headers and the app owns the request, so "in flight" is an
 * event, not a guess.
 */
function slowAssertionRequest(port: number, cookie: string): SlowRequest {
  const body = JSON.stringify({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/bsso/assertion',
    headers: {
      origin: EXTENSION_ORIGIN,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      cookie,
      expect: '100-continue',
    },
  });
  const answer = new Promise<{ status: number; body: string; connection: string | undefined }>(
    (resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }),
        );
      });
      req.on('error', reject);
    },
  );
  // Handled here too: a cut connection must not count as an unhandled rejection.
  answer.catch(() => undefined);
  const started = new Promise<void>((resolve) => req.once('continue', () => resolve()));
  req.flushHeaders();
  return {
    started,
    answer,
    async finish() {
      req.end(body);
      return answer;
    },
  };
}

describe('SIGTERM: graceful shutdown of bsso-provider', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await tempDir();
    await addAccount(dataDir, ALICE);
  });
  after(() => removeDir(dataDir));

  it('stops accepting, finishes the request in flight, exits 0; its log row survives', async () => {
    const main = await startMain(mainEnv(dataDir));
    const alice = new Browser(main.base);
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
    const slow = slowAssertionRequest(main.port, alice.cookieHeader());
    await slow.started;
    main.child.kill('SIGTERM');
    await main.waitForEvent('stopping');
    // The listening socket is closed: new clients go elsewhere.
    assert.equal(await refused(main.port), true);
    const answer = await slow.finish();
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.connection, 'close');
    const { assertion: issued } = JSON.parse(answer.body) as { assertion: string };
    assert.equal(await main.exited, 0);
    await main.waitForEvent('stopped');

    // The row is in the database, and the restarted provider shows it and verifies.
    const db = new DatabaseSync(join(dataDir, 'provider.sqlite'), { readOnly: true });
    const row = db
      .prepare('SELECT COUNT(*) AS n FROM issued_assertions WHERE email = ?')
      .get(ALICE);
    db.close();
    assert.equal(row?.n, 1);
    const again = await startMain(mainEnv(dataDir));
    try {
      const restarted = new Browser(again.base);
      for (const [name, value] of alice.cookies) restarted.cookies.set(name, value);
      const page = await (await restarted.fetch('/account')).text();
      assert.ok(page.includes(SITE), 'the account page lists the site');
      const verified = await postJson(again.base, '/bsso/verify', { assertion: issued });
      assert.equal(verified.status, 200);
    } finally {
      assert.equal(await again.stop(), 0);
    }
  });

  it('many assertions issued right before SIGTERM: every log row is written before exit', async () => {
    const many = 50;
    const main = await startMain(mainEnv(dataDir));
    const alice = new Browser(main.base);
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
    const before = countRows(dataDir);
    // Answered at once: the rows wait in the provider's batch (src/storage/batched-log.ts).
    await Promise.all(Array.from({ length: many }, () => assertion(alice)));
    main.child.kill('SIGTERM');
    assert.equal(await main.exited, 0);
    await main.waitForEvent('stopped');
    assert.equal(countRows(dataDir), before + many);
    assert.equal(main.logs.filter((l) => l.level === 'error').length, 0);
  });

  it('cuts a request that outlives BSSO_SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    const main = await startMain(mainEnv(dataDir, { BSSO_SHUTDOWN_TIMEOUT_MS: '100' }));
    const alice = new Browser(main.base);
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
    const slow = slowAssertionRequest(main.port, alice.cookieHeader());
    await slow.started;
    main.child.kill('SIGTERM');
    await main.waitForEvent('shutdown_timeout');
    await assert.rejects(slow.answer, /socket hang up/);
    assert.equal(await main.exited, 0);
  });
});

describe('key rotation without a restart: rotate-keys, then SIGHUP', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await tempDir();
    await addAccount(dataDir, ALICE);
  });
  after(() => removeDir(dataDir));

  it('signs with the new key; assertions of the old one still verify', async () => {
    const main = await startMain(mainEnv(dataDir));
    try {
      const alice = new Browser(main.base);
      assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
      const old = await assertion(alice);
      const oldKid = decodeAssertion(old).header.kid;

      const rotated = await runUsers(['rotate-keys'], mainEnv(dataDir));
      assert.equal(rotated.code, 0, rotated.err);
      const newKid = /new signing key (\S+);/.exec(rotated.out)?.[1];
      assert.ok(newKid && newKid !== oldKid);
      // Until the reload the running provider keeps its key.
      assert.equal(decodeAssertion(await assertion(alice)).header.kid, oldKid);

      main.child.kill('SIGHUP');
      await main.waitForEvent('keys_reloaded', (l) => l.kid === newKid);
      const fresh = await assertion(alice);
      assert.equal(decodeAssertion(fresh).header.kid, newKid);
      for (const token of [old, fresh]) {
        const verified = await postJson(main.base, '/bsso/verify', { assertion: token });
        assert.equal(verified.status, 200);
      }

      // A key file that does not load leaves the keys in use.
      await writeFile(join(dataDir, SIGNING_KEYS_FILE), '{"version": 2}', { mode: 0o600 });
      main.child.kill('SIGHUP');
      await main.waitForEvent('keys_reload_failed');
      assert.equal(decodeAssertion(await assertion(alice)).header.kid, newKid);
    } finally {
      assert.equal(await main.stop(), 0);
    }
  });
});

describe('users CLI: sessions and end-sessions', () => {
  it("lists an account's sessions and ends them; others stay", async () => {
    const p = await startProvider();
    try {
      await p.provider.accounts.create(ALICE, PASSWORD);
      await p.provider.accounts.create(BOB, PASSWORD);
      const phone = new Browser(p.base);
      const laptop = new Browser(p.base);
      const bob = new Browser(p.base);
      for (const [b, who] of [
        [phone, ALICE],
        [laptop, ALICE],
        [bob, BOB],
      ] as const) {
        assert.equal((await b.signIn(who, PASSWORD)).status, 303);
      }
      const env = mainEnv(p.dataDir);
      const listed = await runUsers(['sessions', 'Alice@mail.test'], env);
      assert.equal(listed.code, 0, listed.err);
      const lines = listed.out.trim().split('\n');
      assert.equal(lines.length, 2);
      for (const line of lines) {
        assert.match(line, /^[A-Za-z0-9_-]{12} {2}created 2026-01-01T12:00:00\.000Z {2}last seen /);
      }
      const ended = await runUsers(['end-sessions', ALICE], env);
      assert.equal(ended.code, 0, ended.err);
      assert.equal(ended.out, `ended 2 session(s) of ${ALICE}\n`);
      assert.equal((await runUsers(['sessions', ALICE], env)).out, '');
      for (const b of [phone, laptop]) {
        const res = await b.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
        assert.equal(res.status, 401, 'signed out');
      }
      const bobAsks = await bob.askAssertion({ email: BOB, audience: AUDIENCE, nonce: nonce() });
      assert.equal(bobAsks.status, 200);
      const bad = await runUsers(['sessions', 'not an address'], env);
      assert.equal(bad.code, 1);
      assert.match(bad.err, /^users: /);
    } finally {
      await p.stop();
      await removeDir(p.dataDir);
    }
  });
});

describe('users CLI: sessions in Redis (PostgreSQL + Redis, as several instances run)', () => {
  it('finds and ends them through the same variables the provider reads', async () => {
    const name = uniqueName();
    const p = await startProvider({
      databaseUrl: DATABASE_URL,
      databaseSchema: name,
      redisUrl: REDIS_URL,
      redisKeyPrefix: `${name}:`,
    });
    try {
      await p.provider.accounts.create(ALICE, PASSWORD);
      const alice = new Browser(p.base);
      assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
      const env: Record<string, string> = {
        ...mainEnv(p.dataDir),
        DATABASE_URL,
        BSSO_DATABASE_SCHEMA: name,
        REDIS_URL,
        BSSO_REDIS_PREFIX: `${name}:`,
      };
      const listed = await runUsers(['sessions', ALICE], env);
      assert.equal(listed.code, 0, listed.err);
      assert.equal(listed.out.trim().split('\n').length, 1);
      // Without the prefix (or the issuer it derives from) the CLI would look elsewhere.
      const { BSSO_REDIS_PREFIX: _p, BSSO_ISSUER: _i, ...unprefixed } = env;
      const refused = await runUsers(['sessions', ALICE], unprefixed);
      assert.equal(refused.code, 1);
      assert.match(refused.err, /BSSO_ISSUER/);
      assert.equal(
        (await runUsers(['end-sessions', ALICE], env)).out,
        `ended 1 session(s) of ${ALICE}\n`,
      );
      const res = await alice.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
      assert.equal(res.status, 401);
    } finally {
      await p.stop();
      await removeDir(p.dataDir);
      await dropSchema(name);
      await dropRedisPrefix(`${name}:`);
    }
  });
});
