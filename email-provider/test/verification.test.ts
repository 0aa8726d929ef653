import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AssertionClaims,
  checkVerificationAnswer,
  decodeAssertion,
  parseAssociationAnswer,
  signAssertion,
} from '@bsso/protocol';
import { generateKeyPair, importJWK } from 'jose';
import { SIGNING_KEYS_FILE } from '../src/index.ts';
import {
  AUDIENCE,
  Browser,
  errorCode,
  ISSUER,
  nonce,
  PASSWORD,
  postJson,
  type Running,
  removeDir,
  startProvider,
} from './helpers.ts';

const ALICE = 'alice@mail.test';

describe('direct verification', () => {
  let p: Running;
  let alice: Browser;
  before(async () => {
    p = await startProvider();
    await p.provider.accounts.create(ALICE, PASSWORD);
    alice = new Browser(p.base);
    await alice.signIn(ALICE, PASSWORD);
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  const issue = async (handle?: string): Promise<string> => {
    const res = await alice.askAssertion({
      email: ALICE,
      audience: AUDIENCE,
      nonce: nonce(),
      ...(handle ? { handle } : {}),
    });
    return ((await res.json()) as { assertion: string }).assertion;
  };
  const verify = (assertion: unknown) => postJson(p.base, '/bsso/verify', { assertion });

  /** Signs claims with the provider's own current key, read from its data directory. */
  const signAsProvider = async (claims: AssertionClaims): Promise<string> => {
    const file = JSON.parse(await readFile(join(p.dataDir, SIGNING_KEYS_FILE), 'utf8'));
    const jwk = file.keys[0].private_jwk;
    const privateKey = await importJWK(jwk, 'EdDSA');
    if (privateKey instanceof Uint8Array) throw new Error('not an asymmetric key');
    return signAssertion(claims, { kind: 'provider', kid: jwk.kid, privateKey });
  };

  it('verifies a provider-signed assertion once, then answers assertion_replayed', async () => {
    const token = await issue();
    const first = await verify(token);
    assert.equal(first.status, 200);
    checkVerificationAnswer(await first.json(), decodeAssertion(token).claims);
    const second = await verify(token);
    assert.equal(second.status, 400);
    assert.equal(await errorCode(second), 'assertion_replayed');
  });

  it('refuses association-signed assertions', async () => {
    const res = await postJson(p.base, '/bsso/association', { site: 'https://site.test' });
    const { handle } = parseAssociationAnswer(await res.json());
    const token = await issue(handle);
    assert.equal(decodeAssertion(token).header.alg, 'HS256');
    const answer = await verify(token);
    assert.equal(answer.status, 400);
    assert.equal(await errorCode(answer), 'invalid_assertion');
  });

  it('refuses tampered assertions and foreign keys', async () => {
    const token = await issue();
    const [h, c, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(c ?? '', 'base64url').toString());
    claims.sub = 'mallory@mail.test';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    assert.equal(await errorCode(await verify(forged)), 'invalid_signature');
    const flipped = `${h}.${c}.${(s ?? '').startsWith('A') ? 'B' : 'A'}${(s ?? '').slice(1)}`;
    assert.equal(await errorCode(await verify(flipped)), 'invalid_signature');

    const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const fake = await signAssertion(decodeAssertion(token).claims, {
      kind: 'provider',
      kid: 'k'.repeat(43),
      privateKey: foreign.privateKey,
    });
    assert.equal(await errorCode(await verify(fake)), 'invalid_signature');
    // The real token is still unused: the failures above did not consume it.
    assert.equal((await verify(token)).status, 200);
  });

  it('refuses other issuers and expired assertions', async () => {
    const iat = Math.floor(p.clock.ms / 1000);
    const base: AssertionClaims = {
      iss: ISSUER,
      sub: ALICE,
      aud: AUDIENCE,
      nonce: nonce(),
      iat,
      exp: iat + 120,
      jti: 'j'.repeat(22),
    };
    const otherIssuer = await signAsProvider({ ...base, iss: 'https://evil.test' });
    assert.equal(await errorCode(await verify(otherIssuer)), 'invalid_issuer');
    const expired = await signAsProvider({ ...base, iat: iat - 600, exp: iat - 480 });
    assert.equal(await errorCode(await verify(expired)), 'assertion_expired');
    const future = await signAsProvider({ ...base, iat: iat + 600, exp: iat + 700 });
    assert.equal(await errorCode(await verify(future)), 'clock_skew');
    const tooLong = await signAsProvider({ ...base, exp: iat + 3600 });
    assert.equal(await errorCode(await verify(tooLong)), 'invalid_assertion');
  });

  it('refuses alg none, malformed tokens and malformed requests without a 500', async () => {
    const token = await issue();
    const [, c] = token.split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"bsso-assertion+jwt","kid":"kkkkkkkkkkkkkkkkkkkkk"}').toString('base64url')}.${c}.`;
    const expected: [unknown, string][] = [
      [none, 'invalid_assertion'],
      ['a.b.c', 'invalid_assertion'],
      ['', 'invalid_assertion'],
      ['x'.repeat(5000), 'invalid_request'],
      [42, 'invalid_request'],
    ];
    for (const [bad, code] of expected) {
      const res = await verify(bad);
      assert.equal(res.status, 400, String(bad).slice(0, 20));
      assert.equal(await errorCode(res), code, String(bad).slice(0, 20));
    }
    const oops = await postJson(p.base, '/bsso/verify', '{oops');
    assert.equal(oops.status, 400);
    assert.equal(await errorCode(oops), 'invalid_request');
    const extra = await postJson(p.base, '/bsso/verify', { assertion: token, x: 1 });
    assert.equal(extra.status, 400);
    assert.equal(await errorCode(extra), 'invalid_request');
    const typed = await fetch(`${p.base}/bsso/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `assertion=${token}`,
    });
    assert.equal(typed.status, 415);
    assert.equal(await errorCode(typed), 'unsupported_media_type');
    const huge = await postJson(p.base, '/bsso/verify', { assertion: 'x'.repeat(100_000) });
    assert.equal(huge.status, 413);
    assert.equal(await errorCode(huge), 'payload_too_large');
  });

  it('forgets used ids only after they can no longer verify', async () => {
    const token = await issue();
    assert.equal((await verify(token)).status, 200);
    await p.provider.sweep();
    assert.equal(await errorCode(await verify(token)), 'assertion_replayed');
    p.clock.ms += 181_000;
    await p.provider.sweep();
    assert.equal(await errorCode(await verify(token)), 'assertion_expired');
  });
});
