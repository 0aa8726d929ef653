// The passkey ceremonies' server-side state (src/passkeys): each challenge bound to its
// session or browser, short-lived and used once, with an injected clock. Real SQLite stores;
// the browser side and the signatures are tested in Chromium (e2e/test/passkeys.test.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAccountService } from '../src/accounts.ts';
import { CEREMONY_MS, createPasskeys, PasskeyError } from '../src/passkeys/index.ts';
import { openSqliteDatabase } from '../src/storage/sqlite-database.ts';
import { createSqliteStores } from '../src/storage/sqlite-stores.ts';
import type { Stores } from '../src/storage/types.ts';
import { ISSUER, removeDir, START, tempDir } from './helpers.ts';
import { SoftwareAuthenticator } from './software-authenticator.ts';

const ALICE = { email: 'alice@mail.test', idHash: 'session-of-alice' };
const ALICE_OTHER_SESSION = { email: 'alice@mail.test', idHash: 'another-session' };
const BOB = 'bob@mail.test';

/** A response of the right shape for a credential id, whose signature cannot verify. */
function shapedAnswer(id: string): string {
  const b = (s: string) => Buffer.from(s).toString('base64url');
  return JSON.stringify({
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: b('{"type":"webauthn.get"}'),
      authenticatorData: b('x'.repeat(37)),
      signature: b('sig'),
    },
  });
}

async function refused(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof PasskeyError);
    assert.equal(err.code, code);
    return true;
  });
}

describe('passkey ceremonies', () => {
  let dir: string;
  let stores: Stores;
  const clock = { ms: START };
  const passkeys = () => createPasskeys({ stores, issuer: ISSUER, now: () => clock.ms });

  before(async () => {
    dir = await tempDir();
    stores = createSqliteStores(openSqliteDatabase(join(dir, 'provider.sqlite')));
    for (const [id, email] of [
      ['alice-key', ALICE.email],
      ['bob-key', BOB],
    ] as const) {
      await stores.passkeys.insert({
        id,
        email,
        publicKey: new Uint8Array(77),
        counter: 0,
        transports: ['internal'],
        createdAt: START,
      });
    }
  });
  after(async () => {
    await stores.close();
    await removeDir(dir);
  });

  it('registration options name the issuer host as RP and exclude the account’s passkeys', async () => {
    const options = await passkeys().startRegistration(ALICE);
    assert.equal(options.rp.id, 'mail.test');
    assert.equal(options.user.name, ALICE.email);
    assert.equal(options.authenticatorSelection?.userVerification, 'preferred');
    assert.deepEqual(
      options.excludeCredentials?.map((c) => c.id),
      ['alice-key'],
    );
  });

  it('a registration challenge belongs to its session and is used once', async () => {
    const p = passkeys();
    await p.startRegistration(ALICE);
    await refused(p.finishRegistration(ALICE_OTHER_SESSION, shapedAnswer('k')), 'ceremony_missing');
    // Still there for its own session, and spent by this (refused) answer.
    await refused(p.finishRegistration(ALICE, '{"not":"a credential"}'), 'invalid_response');
    await refused(p.finishRegistration(ALICE, shapedAnswer('k')), 'ceremony_missing');
  });

  it('a registration challenge expires', async () => {
    const p = passkeys();
    await p.startRegistration(ALICE);
    clock.ms += CEREMONY_MS;
    await refused(p.finishRegistration(ALICE, shapedAnswer('k')), 'ceremony_missing');
  });

  it('no second factor for an account without passkeys', async () => {
    assert.equal(await passkeys().startSignin('carol@mail.test', { popup: false }), undefined);
  });

  it('a pending sign-in belongs to its browser, is used once, and remembers its account', async () => {
    const p = passkeys();
    const pending = await p.startSignin(ALICE.email, { popup: true });
    assert.ok(pending);
    assert.equal(pending.options.rpId, 'mail.test');
    assert.equal(pending.options.userVerification, 'preferred');
    assert.deepEqual(
      pending.options.allowCredentials?.map((c) => c.id),
      ['alice-key'],
    );
    const other = await p.startSignin(BOB, { popup: false });
    assert.ok(other);
    // Another browser's id finds nothing; a made-up id neither.
    await refused(p.finishSignin('A'.repeat(43), shapedAnswer('alice-key')), 'ceremony_missing');
    await assert.rejects(p.finishSignin(pending.browserId, shapedAnswer('alice-key')), (err) => {
      assert.ok(err instanceof PasskeyError);
      assert.equal(err.code, 'verification_failed');
      assert.equal(err.account, ALICE.email);
      assert.equal(err.popup, true);
      return true;
    });
    await refused(p.finishSignin(pending.browserId, shapedAnswer('alice-key')), 'ceremony_missing');
    // Bob's pending sign-in is untouched by all this, and refuses Alice's passkey.
    await refused(p.finishSignin(other.browserId, shapedAnswer('alice-key')), 'unknown_credential');
  });

  it('a pending sign-in expires', async () => {
    const p = passkeys();
    const pending = await p.startSignin(ALICE.email, { popup: false });
    assert.ok(pending);
    clock.ms += CEREMONY_MS - 1;
    const late = await p.startSignin(ALICE.email, { popup: false });
    assert.ok(late);
    clock.ms += 1;
    await refused(p.finishSignin(pending.browserId, shapedAnswer('alice-key')), 'ceremony_missing');
    // The later one is still waiting (and refuses a malformed answer).
    await refused(p.finishSignin(late.browserId, 'not json'), 'invalid_response');
  });

  it('malformed answers are refused before anything is verified', async () => {
    const p = passkeys();
    for (const answer of [
      '',
      'x'.repeat(20_000),
      '[]',
      JSON.stringify({ id: 'a+b', rawId: 'a+b', type: 'public-key', response: {} }),
      JSON.stringify({ id: 'ab', rawId: 'cd', type: 'public-key', response: {} }),
      JSON.stringify({ id: 'ab', rawId: 'ab', type: 'password', response: {} }),
      JSON.stringify({ id: 'ab', rawId: 'ab', type: 'public-key', response: { signature: 1 } }),
    ]) {
      const pending = await p.startSignin(ALICE.email, { popup: false });
      assert.ok(pending);
      await refused(p.finishSignin(pending.browserId, answer), 'invalid_response');
    }
  });

  it('removing an account removes its passkeys', async () => {
    const accounts = createAccountService({ stores, domains: undefined, now: () => clock.ms });
    await accounts.create('erin@mail.test', 'a long enough password');
    await stores.passkeys.insert({
      id: 'erin-key',
      email: 'erin@mail.test',
      publicKey: new Uint8Array(77),
      counter: 0,
      transports: [],
      createdAt: clock.ms,
    });
    assert.equal(await accounts.remove('erin@mail.test'), true);
    assert.equal(await stores.passkeys.find('erin-key'), undefined);
  });

  describe('with an authenticator', () => {
    const DAVE = { email: 'dave@mail.test', idHash: 'session-of-dave' };
    const authenticator = new SoftwareAuthenticator();

    before(async () => {
      const p = passkeys();
      const options = await p.startRegistration(DAVE);
      const record = await p.finishRegistration(DAVE, authenticator.create(options, ISSUER));
      assert.equal(record.id, authenticator.id);
      assert.deepEqual(record.transports, ['internal']);
      assert.equal(record.createdAt, clock.ms);
    });

    it('registers once: the same passkey again is refused', async () => {
      const p = passkeys();
      const options = await p.startRegistration(DAVE);
      assert.deepEqual(
        options.excludeCredentials?.map((c) => c.id),
        [authenticator.id],
      );
      await refused(
        p.finishRegistration(DAVE, authenticator.create(options, ISSUER)),
        'passkey_exists',
      );
    });

    it('a registration answer made for another session’s challenge is refused', async () => {
      const p = passkeys();
      const other = new SoftwareAuthenticator();
      const forAlice = await p.startRegistration(ALICE);
      await p.startRegistration(DAVE);
      await refused(
        p.finishRegistration(DAVE, other.create(forAlice, ISSUER)),
        'verification_failed',
      );
    });

    it('signs in with a fresh assertion; the counter must move on; origin and challenge are checked', async () => {
      const p = passkeys();
      const first = await p.startSignin(DAVE.email, { popup: false, continue: '/bsso/web?x=1' });
      assert.ok(first);
      const answer = authenticator.get(first.options, ISSUER);
      const state = await p.finishSignin(first.browserId, answer);
      assert.equal(state.email, DAVE.email);
      assert.equal(state.continue, '/bsso/web?x=1');
      assert.equal((await stores.passkeys.find(authenticator.id))?.counter, authenticator.counter);

      // The same answer for a new sign-in: another challenge.
      const replay = await p.startSignin(DAVE.email, { popup: false });
      assert.ok(replay);
      await refused(p.finishSignin(replay.browserId, answer), 'verification_failed');
      // A counter that did not move on (a cloned authenticator).
      const cloned = await p.startSignin(DAVE.email, { popup: false });
      assert.ok(cloned);
      await refused(
        p.finishSignin(
          cloned.browserId,
          authenticator.get(cloned.options, ISSUER, { keepCounter: true }),
        ),
        'verification_failed',
      );
      // Signed for another origin (a phishing page relaying the challenge).
      const phished = await p.startSignin(DAVE.email, { popup: false });
      assert.ok(phished);
      await refused(
        p.finishSignin(
          phished.browserId,
          authenticator.get(phished.options, 'https://mail.test.evil'),
        ),
        'verification_failed',
      );
      // And the next honest one works.
      const next = await p.startSignin(DAVE.email, { popup: true });
      assert.ok(next);
      assert.equal(
        (await p.finishSignin(next.browserId, authenticator.get(next.options, ISSUER))).popup,
        true,
      );
    });

    it('a passkey alone signs in its account, only if it verified the user and names its user', async () => {
      const p = passkeys();
      const start = () => p.startPasskeySignin({ popup: false });
      const first = await start();
      assert.equal(first.options.userVerification, 'required');
      assert.equal((first.options.allowCredentials ?? []).length, 0, 'the authenticator chooses');
      const handle = Buffer.from(
        createHash('sha256').update(`${ISSUER}\n${DAVE.email}`).digest(),
      ).toString('base64url');
      const signedIn = await p.finishSignin(
        first.browserId,
        authenticator.get(first.options, ISSUER, { userHandle: handle }),
      );
      assert.deepEqual(signedIn, { email: DAVE.email, popup: false });
      const unverified = await start();
      await refused(
        p.finishSignin(
          unverified.browserId,
          authenticator.get(unverified.options, ISSUER, { userVerified: false }),
        ),
        'verification_failed',
      );
      const otherUser = await start();
      await refused(
        p.finishSignin(
          otherUser.browserId,
          authenticator.get(otherUser.options, ISSUER, { userHandle: 'c29tZW9uZQ' }),
        ),
        'unknown_credential',
      );
      // Without a password, user verification is what stands for it; as a second factor it is
      // only preferred.
      const second = await p.startSignin(DAVE.email, { popup: false });
      assert.ok(second);
      const ok = await p.finishSignin(
        second.browserId,
        authenticator.get(second.options, ISSUER, { userVerified: false }),
      );
      assert.equal(ok.email, DAVE.email);
    });
  });
});
