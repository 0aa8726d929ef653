// Abuse limits of the provider (threats 16, 49): a stranger's wrong passwords never lock the
// account's owner out (throttled per account and client; many clients only slow an account
// down), and floods of assertion requests are refused per session and per client before the
// issued-assertion log grows. Clients are told apart by the address a trusted proxy hop
// forwards (trustProxy: 1), as behind nginx (behind-nginx.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../src/index.ts';
import { SIGNIN_FAILED, SIGNIN_THROTTLED } from '../src/pages/signin.ts';
import { DATABASE_FILE } from '../src/storage/select.ts';
import {
  AUDIENCE,
  Browser,
  errorCode,
  nonce,
  PASSWORD,
  type Running,
  removeDir,
  startProvider,
} from './helpers.ts';

const ALICE = 'alice@mail.test';
const BOB = 'bob@mail.test';

/** A browser at one client address (the one the proxy in front forwards). */
class ClientAt extends Browser {
  readonly address: string;

  constructor(base: string, address: string) {
    super(base);
    this.address = address;
  }

  override fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', this.address);
    return super.fetch(path, { ...init, headers });
  }
}

async function throttled(res: Response, client: Browser): Promise<void> {
  assert.equal(res.status, 429);
  assert.ok((await res.text()).includes(SIGNIN_THROTTLED));
  assert.equal(client.cookies.has(SESSION_COOKIE), false, 'no session');
}

describe('sign-in throttling cannot lock a victim out', () => {
  let p: Running;
  before(async () => {
    p = await startProvider({
      trustProxy: 1,
      signinFailuresPerAccount: 3,
      signinFailuresPerAccountAllClients: 6,
      signinFailuresPerIp: 100,
      signinUnknownClientsPerAccount: 4,
    });
    await p.provider.accounts.create(ALICE, PASSWORD);
  });
  beforeEach(() => {
    p.clock.ms += 3_600_000;
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  it("an attacker's wrong passwords from one client do not stop the victim on another", async () => {
    const attacker = new ClientAt(p.base, '198.51.100.7');
    for (let i = 0; i < 3; i++) {
      assert.equal((await attacker.signIn(ALICE, `guess ${i}`)).status, 401);
    }
    // The attacker is throttled on this account, even with the right password.
    await throttled(await attacker.signIn(ALICE, PASSWORD), attacker);
    await throttled(await attacker.signIn(ALICE, 'guess 4'), attacker);
    // The victim, on another client, signs in at once.
    const victim = new ClientAt(p.base, '203.0.113.20');
    const res = await victim.signIn(ALICE, PASSWORD);
    assert.equal(res.status, 303);
    assert.ok(victim.cookies.has(SESSION_COOKIE));
  });

  it('a burst of parallel guesses is counted before any is checked: only the limit gets through', async () => {
    const attacker = new ClientAt(p.base, '198.51.100.9');
    const csrf_token = await attacker.csrf();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        attacker.postForm('/signin', { csrf_token, email: ALICE, password: `parallel ${i}` }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 3, 'exactly the limit was checked');
    assert.equal(statuses.filter((s) => s === 429).length, 27);
    for (const r of answers) await r.body?.cancel();
    await throttled(await attacker.signIn(ALICE, PASSWORD), attacker);
  });

  it('an attacker changing IPv6 addresses inside its /64 stays one client', async () => {
    for (let i = 1; i <= 3; i++) {
      const hop = new ClientAt(p.base, `2001:db8:7:7::${i}`);
      assert.equal((await hop.signIn(ALICE, `guess ${i}`)).status, 401);
    }
    const next = new ClientAt(p.base, '2001:db8:7:7:ffff::99');
    await throttled(await next.signIn(ALICE, PASSWORD), next);
    // The owner, on another network, signs in.
    const victim = new ClientAt(p.base, '2001:db8:7:8::1');
    assert.equal((await victim.signIn(ALICE, PASSWORD)).status, 303);
  });

  it('a slowed-down account bounds the guesses of all unknown clients together, not those of a known client', async () => {
    // The owner signed in from home before the attack.
    const home = new ClientAt(p.base, '203.0.113.77');
    assert.equal((await home.signIn(ALICE, PASSWORD)).status, 303);
    // Many clients, each new: the account is slowed down (6 failures), then the unknown
    // clients share a budget of 4 attempts per window, however many they are.
    const statuses: number[] = [];
    for (let c = 0; c < 20; c++) {
      const attacker = new ClientAt(p.base, `192.0.2.${c + 1}`);
      const res = await attacker.signIn(ALICE, `guess ${c}`);
      statuses.push(res.status);
      assert.equal(attacker.cookies.has(SESSION_COOKIE), false, 'no session');
      await res.body?.cancel();
    }
    assert.equal(statuses.filter((s) => s === 401).length, 6 + 4, 'checked guesses');
    assert.equal(statuses.filter((s) => s === 429).length, 20 - 10);
    // A new client with the right password waits too (it may be an attacker who guessed).
    const stranger = new ClientAt(p.base, '192.0.2.200');
    await throttled(await stranger.signIn(ALICE, PASSWORD), stranger);
    // The owner's known client signs in at once.
    const again = new ClientAt(p.base, '203.0.113.77');
    assert.equal((await again.signIn(ALICE, PASSWORD)).status, 303);
    assert.ok(again.cookies.has(SESSION_COOKIE));
  });

  it('many clients failing on one account slow it down, one attempt a minute per client', async () => {
    // 3 clients x 2 failures reach the all-clients limit (6).
    for (let c = 0; c < 3; c++) {
      const attacker = new ClientAt(p.base, `198.51.100.${c + 10}`);
      for (let i = 0; i < 2; i++) {
        assert.equal((await attacker.signIn(ALICE, `guess ${c}-${i}`)).status, 401);
      }
    }
    // A new attacker client gets one guess, then waits a minute for the next.
    const late = new ClientAt(p.base, '198.51.100.99');
    const guess = await late.signIn(ALICE, 'guess late');
    assert.equal(guess.status, 401);
    assert.ok((await guess.text()).includes(SIGNIN_FAILED));
    await throttled(await late.signIn(ALICE, 'guess late 2'), late);
    // The victim is slowed down too, never locked: the right password works at once.
    const victim = new ClientAt(p.base, '203.0.113.21');
    assert.equal((await victim.signIn(ALICE, PASSWORD)).status, 303);
    p.clock.ms += 61_000;
    assert.equal((await late.signIn(ALICE, 'guess late 3')).status, 401);
  });
});

/** Rows of the issued-assertion log (SQLite in the data directory), its batch written. */
async function loggedAssertions(p: Running): Promise<number> {
  await p.provider.flushIssuedLog();
  const db = new DatabaseSync(join(p.dataDir, DATABASE_FILE), { readOnly: true });
  try {
    const row = db.prepare('SELECT COUNT(*) AS n FROM issued_assertions').get() as { n: number };
    return Number(row.n);
  } finally {
    db.close();
  }
}

describe('assertion endpoint under a flood', () => {
  let p: Running;
  before(async () => {
    p = await startProvider({
      trustProxy: 1,
      assertionsPerSessionPerMinute: 5,
      assertionsPerClientPerMinute: 8,
    });
    await p.provider.accounts.create(ALICE, PASSWORD);
    await p.provider.accounts.create(BOB, PASSWORD);
  });
  beforeEach(() => {
    p.clock.ms += 3_600_000;
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  const ask = (client: Browser, email: string) =>
    client.askAssertion({ email, audience: AUDIENCE, nonce: nonce() });

  it('one session: 429 rate_limited over the limit, and the log stops growing', async () => {
    const alice = new ClientAt(p.base, '203.0.113.30');
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
    const before = await loggedAssertions(p);
    for (let i = 0; i < 5; i++) assert.equal((await ask(alice, ALICE)).status, 200);
    // The same session from other client addresses is still the same session.
    for (const address of ['203.0.113.30', '203.0.113.31', '203.0.113.32']) {
      const moved = new ClientAt(p.base, address);
      moved.cookies.set(SESSION_COOKIE, alice.cookies.get(SESSION_COOKIE) ?? '');
      const res = await ask(moved, ALICE);
      assert.equal(res.status, 429);
      assert.equal(await errorCode(res), 'rate_limited');
    }
    assert.equal(await loggedAssertions(p), before + 5);
    p.clock.ms += 61_000;
    assert.equal((await ask(alice, ALICE)).status, 200);
    assert.equal(await loggedAssertions(p), before + 6);
  });

  it('one client: 429 rate_limited across its sessions, other clients unaffected', async () => {
    const alice = new ClientAt(p.base, '203.0.113.40');
    const bob = new ClientAt(p.base, '203.0.113.40');
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
    assert.equal((await bob.signIn(BOB, PASSWORD)).status, 303);
    const before = await loggedAssertions(p);
    for (let i = 0; i < 4; i++) {
      assert.equal((await ask(alice, ALICE)).status, 200);
      assert.equal((await ask(bob, BOB)).status, 200);
    }
    for (const [client, email] of [
      [alice, ALICE],
      [bob, BOB],
    ] as const) {
      const res = await ask(client, email);
      assert.equal(res.status, 429);
      assert.equal(await errorCode(res), 'rate_limited');
    }
    // Requests without a session count too: the client cannot probe around the limit.
    const anonymous = await ask(new ClientAt(p.base, '203.0.113.40'), ALICE);
    assert.equal(await errorCode(anonymous), 'rate_limited');
    assert.equal(await loggedAssertions(p), before + 8);
    const elsewhere = new ClientAt(p.base, '203.0.113.41');
    assert.equal((await elsewhere.signIn(ALICE, PASSWORD)).status, 303);
    assert.equal((await ask(elsewhere, ALICE)).status, 200);
  });
});
