// Assertion signing with Node's crypto (src/assertion-signing.ts) makes the very tokens jose
// makes, for both keys, the spec's test vectors included; anything jose refuses stays refused.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { VECTORS_FILE, type VectorFile, vectorKeys } from '../scripts/make-vectors.ts';
import {
  HMAC_KEY_CACHE_SIZE,
  hmacKeyCacheSize,
  signCompactWithNode,
} from '../src/assertion-signing.ts';
import {
  type AssertionClaims,
  type AssertionSigningKey,
  signAssertion,
  verifyAssociationSignature,
  verifyProviderSignature,
} from '../src/index.ts';

const T = 1767225600;
const claims: AssertionClaims = {
  iss: 'https://mail.example',
  sub: 'alice@mail.example',
  aud: 'https://site.example/bsso',
  nonce: 'n'.repeat(43),
  iat: T,
  exp: T + 120,
  jti: 'j'.repeat(22),
};
const handle = 'h'.repeat(22);
const secret = crypto.getRandomValues(new Uint8Array(32));
// Extractable, as the provider imports its key: Node makes a KeyObject of extractable keys only.
const pair = (await crypto.subtle.generateKey('Ed25519', true, [
  'sign',
  'verify',
])) as CryptoKeyPair;
const associationKey: AssertionSigningKey = { kind: 'association', handle, secret };
const providerKey: AssertionSigningKey = {
  kind: 'provider',
  kid: 'provider-key-2026-01',
  privateKey: pair.privateKey,
};

/** The token of both implementations; they must be the same string. */
async function both(c: AssertionClaims, key: AssertionSigningKey): Promise<string> {
  const node = await signAssertion(c, key);
  const jose = await signAssertion(c, key, { implementation: 'webcrypto' });
  assert.equal(node, jose);
  return node;
}

const claimSets: AssertionClaims[] = [
  claims,
  { ...claims, invalidate_handle: 'i'.repeat(22) },
  // Non-ASCII and characters JSON escapes: the payload is UTF-8 either way.
  { ...claims, sub: 'zoë@bücher.example', iss: 'https://mäil.example/"\\\u2028' },
  { ...claims, iat: 0, exp: 2 ** 40, aud: `https://site.example/${'p'.repeat(2000)}` },
];

describe('assertion signing with node:crypto', () => {
  it('is what signs under Node, for both keys (the comparisons below are not jose against jose)', () => {
    const header = { alg: 'HS256', typ: 'bsso-assertion+jwt', kid: handle };
    const payload = JSON.stringify(claims);
    assert.ok(signCompactWithNode(header, payload, { alg: 'HS256', secret }));
    const edHeader = { ...header, alg: 'EdDSA' };
    const ed = signCompactWithNode(edHeader, payload, {
      alg: 'EdDSA',
      privateKey: pair.privateKey,
    });
    assert.ok(ed);
  });

  it('a non-extractable Ed25519 key is left to jose, which signs the same token', async () => {
    const fixed = (await crypto.subtle.generateKey('Ed25519', false, ['sign'])) as CryptoKeyPair;
    const header = { alg: 'EdDSA', typ: 'bsso-assertion+jwt', kid: 'k'.repeat(22) };
    const payload = JSON.stringify(claims);
    const key = { alg: 'EdDSA', privateKey: fixed.privateKey } as const;
    assert.equal(signCompactWithNode(header, payload, key), undefined);
    await both(claims, { kind: 'provider', kid: 'k'.repeat(22), privateKey: fixed.privateKey });
  });

  it('HS256: byte-identical to jose for every claim set, and verifies', async () => {
    for (const c of claimSets) {
      const token = await both(c, associationKey);
      await verifyAssociationSignature(token, secret);
      await verifyAssociationSignature(token, secret, { implementation: 'webcrypto' });
    }
  });

  it('EdDSA: byte-identical to jose for every claim set (Ed25519 is deterministic), and verifies', async () => {
    for (const c of claimSets) {
      await verifyProviderSignature(await both(c, providerKey), pair.publicKey);
    }
  });

  it('re-signing the spec test vectors gives their committed tokens, with either implementation', async () => {
    const file = JSON.parse(await readFile(VECTORS_FILE, 'utf8')) as VectorFile;
    const keys = await vectorKeys();
    const names = [
      'assertion_association_signed',
      'assertion_provider_signed',
      'assertion_invalidation',
    ];
    for (const name of names) {
      const vector = file.vectors[name];
      assert.ok(vector?.encoded, name);
      const { header, claims: c } = vector.decoded as {
        header: { alg: string; kid: string };
        claims: AssertionClaims;
      };
      const key: AssertionSigningKey =
        header.alg === 'HS256'
          ? { kind: 'association', handle: header.kid, secret: keys.associationSecret }
          : { kind: 'provider', kid: header.kid, privateKey: keys.providerPrivateKey };
      assert.equal(await both(c, key), vector.encoded, name);
    }
  });

  it('HS256 keys are found by the secret bytes: a fresh copy or a view at an offset signs alike', async () => {
    const expected = await both(claims, associationKey);
    const copy = new Uint8Array(secret);
    assert.equal(await both(claims, { kind: 'association', handle, secret: copy }), expected);
    const padded = new Uint8Array(40);
    padded.set(secret, 5);
    const view = padded.subarray(5, 37);
    assert.equal(await both(claims, { kind: 'association', handle, secret: view }), expected);
  });

  it('HS256: the same handle with another secret never signs with the cached key', async () => {
    const other = crypto.getRandomValues(new Uint8Array(32));
    const token = await both(claims, { kind: 'association', handle, secret: other });
    await verifyAssociationSignature(token, other);
    await assert.rejects(verifyAssociationSignature(token, secret));
  });

  it(`keeps at most ${HMAC_KEY_CACHE_SIZE} HS256 keys, and signs right after evicting`, async () => {
    const secrets = Array.from({ length: HMAC_KEY_CACHE_SIZE + 50 }, () =>
      crypto.getRandomValues(new Uint8Array(32)),
    );
    for (const s of secrets)
      await signAssertion(claims, { kind: 'association', handle, secret: s });
    assert.equal(hmacKeyCacheSize(), HMAC_KEY_CACHE_SIZE);
    // The first secrets were evicted: signing with them again still matches jose.
    for (const s of secrets.slice(0, 3)) {
      const token = await both(claims, { kind: 'association', handle, secret: s });
      await verifyAssociationSignature(token, s);
    }
    assert.equal(hmacKeyCacheSize(), HMAC_KEY_CACHE_SIZE);
  });

  it('refuses what jose refuses: an empty secret, a public key, a key without "sign"', async () => {
    const empty: AssertionSigningKey = { kind: 'association', handle, secret: new Uint8Array(0) };
    const verifyOnly = (await crypto.subtle.generateKey('Ed25519', true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const noSign = await crypto.subtle
      .importKey(
        'pkcs8',
        await crypto.subtle.exportKey('pkcs8', verifyOnly.privateKey),
        'Ed25519',
        false,
        [],
      )
      .catch(() => undefined);
    const wrong: AssertionSigningKey[] = [
      empty,
      { kind: 'provider', kid: 'k'.repeat(22), privateKey: pair.publicKey },
      { kind: 'provider', kid: 'k'.repeat(22), privateKey: {} as CryptoKey },
    ];
    if (noSign) wrong.push({ kind: 'provider', kid: 'k'.repeat(22), privateKey: noSign });
    for (const key of wrong) {
      await assert.rejects(signAssertion(claims, key), `auto ${key.kind}`);
      await assert.rejects(signAssertion(claims, key, { implementation: 'webcrypto' }));
    }
  });
});
