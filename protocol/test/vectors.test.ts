// The committed vectors equal what the generator makes, and each verifies with the real code.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  makeVectors,
  serializeVectors,
  VECTORS_FILE,
  type VectorFile,
  type VectorKeys,
  vectorKeys,
} from '../scripts/make-vectors.ts';
import {
  type AssertionClaims,
  checkAssertionClaims,
  checkVerificationAnswer,
  configUrlFromJrd,
  decodeAssertion,
  errorCodes,
  isErrorCode,
  parseAssertionAnswer,
  parseAssertionRequest,
  parseAssociationAnswer,
  parseAssociationRequest,
  parseChallengeAnswer,
  parseEmail,
  parseProviderConfig,
  parseVerificationRequest,
  verifyAssociationSignature,
  verifyProviderSignature,
} from '../src/index.ts';

let file: VectorFile;
let keys: VectorKeys;
const v = (name: string) => {
  const vector = file.vectors[name];
  assert.ok(vector, `vector ${name} exists`);
  return vector;
};

before(async () => {
  file = JSON.parse(await readFile(VECTORS_FILE, 'utf8')) as VectorFile;
  keys = await vectorKeys();
});

describe('test vectors', () => {
  it('are exactly what scripts/make-vectors.ts generates (run it after a protocol change)', async () => {
    const committed = await readFile(VECTORS_FILE, 'utf8');
    assert.equal(committed, serializeVectors(await makeVectors()));
  });

  it('are the file the package exports as @bsso/protocol/vectors', () => {
    const exported = fileURLToPath(import.meta.resolve('@bsso/protocol/vectors'));
    assert.equal(exported, fileURLToPath(VECTORS_FILE));
  });

  it('discovery: the JRD names the configuration, which parses as it is', () => {
    const email = parseEmail('alice@mail.example');
    const configUrl = configUrlFromJrd(v('webfinger_jrd').decoded, email);
    const config = v('provider_configuration').decoded;
    assert.deepEqual(parseProviderConfig(config, configUrl), config);
  });

  it('challenge and assertion request parse as they are', () => {
    assert.deepEqual(
      parseChallengeAnswer(v('challenge_answer').decoded),
      v('challenge_answer').decoded,
    );
    assert.deepEqual(
      parseAssertionRequest(v('assertion_request').decoded),
      v('assertion_request').decoded,
    );
  });

  it('assertion answers read as assertion, login_required and wrong_account', () => {
    const issuer = 'https://mail.example';
    const ok = parseAssertionAnswer(200, v('assertion_answer').decoded, issuer);
    assert.deepEqual(ok, {
      kind: 'assertion',
      assertion: v('assertion_association_signed').encoded,
    });
    const login = parseAssertionAnswer(401, v('login_required_answer').decoded, issuer);
    assert.equal(login.kind, 'login_required');
    const wrong = parseAssertionAnswer(403, v('wrong_account_answer').decoded, issuer);
    assert.equal(wrong.kind, 'wrong_account');
  });

  for (const name of [
    'assertion_association_signed',
    'assertion_provider_signed',
    'assertion_invalidation',
  ]) {
    it(`${name}: decodes to its decoded form, passes the claim checks and verifies`, async () => {
      const { encoded, decoded } = v(name);
      assert.ok(encoded);
      const got = decodeAssertion(encoded);
      assert.deepEqual(got, decoded);
      checkAssertionClaims(got.claims, {
        issuer: 'https://mail.example',
        audience: 'https://site.example/bsso',
        now: got.claims.iat * 1000,
      });
      if (got.header.alg === 'HS256') {
        assert.equal(got.header.kid, keys.associationHandle);
        await verifyAssociationSignature(encoded, keys.associationSecret);
      } else {
        assert.equal(got.header.kid, keys.providerKid);
        await verifyProviderSignature(encoded, keys.providerPublicKey);
      }
    });
  }

  it('signatures also verify with node:crypto alone (independent of jose)', () => {
    const hs = v('assertion_association_signed').encoded ?? '';
    const [h1, p1, s1] = hs.split('.');
    const mac = createHmac('sha256', keys.associationSecret).update(`${h1}.${p1}`).digest();
    assert.equal(mac.toString('base64url'), s1);
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: keys.providerPublicJwk.x ?? '' };
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    for (const name of ['assertion_provider_signed', 'assertion_invalidation']) {
      const [h, p, s] = (v(name).encoded ?? '').split('.');
      const ok = verify(
        null,
        Buffer.from(`${h}.${p}`),
        publicKey,
        Buffer.from(s ?? '', 'base64url'),
      );
      assert.equal(ok, true, name);
    }
  });

  it('the invalidation assertion names a handle other than the live one', () => {
    const { claims } = decodeAssertion(v('assertion_invalidation').encoded);
    assert.ok(claims.invalidate_handle);
    assert.notEqual(claims.invalidate_handle, keys.associationHandle);
  });

  it('delivery form: encoded is the urlencoded decoded form', () => {
    const { encoded, decoded } = v('delivery_form');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(encoded)), decoded);
  });

  it('association request and answer parse; the key is the derived association key', () => {
    assert.deepEqual(
      parseAssociationRequest(v('association_request').decoded),
      v('association_request').decoded,
    );
    const answer = parseAssociationAnswer(v('association_answer').decoded);
    assert.equal(answer.handle, keys.associationHandle);
    assert.deepEqual(Buffer.from(answer.secret), Buffer.from(keys.associationSecret));
  });

  it('verification request carries the provider-signed assertion; the answer confirms it', () => {
    const request = parseVerificationRequest(v('verification_request').decoded);
    assert.equal(request.assertion, v('assertion_provider_signed').encoded);
    const { claims } = decodeAssertion(request.assertion);
    checkVerificationAnswer(v('verification_answer').decoded, claims as AssertionClaims);
  });

  it('error objects use known codes and their descriptions', () => {
    for (const name of ['error_object', 'wrong_account_answer', 'login_required_answer']) {
      const body = v(name).decoded as { error: unknown; error_description: unknown };
      assert.ok(isErrorCode(body.error));
      assert.equal(body.error_description, errorCodes[body.error].description);
    }
  });

  it('the provider public key is the derived one', () => {
    assert.deepEqual(v('provider_public_key').decoded, {
      ...keys.providerPublicJwk,
      kid: keys.providerKid,
    });
  });
});
