import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ASSERTION_TYP,
  type AssertionClaims,
  type AssertionSigningKey,
  checkAssertionClaims,
  createAssertion,
  decodeAssertion,
  limits,
  signAssertion,
  TOKEN_PATTERN,
  verifyAssociationSignature,
  verifyProviderSignature,
} from '../src/index.ts';
import { rejectsCode, throwsCode } from './expect.ts';

const T = 1767225600; // 2026-01-01T00:00:00Z, in seconds
const issuer = 'https://mail.example';
const audience = 'https://site.example/bsso';
const nonce = 'n'.repeat(43);
const handle = 'h'.repeat(22);
const secret = crypto.getRandomValues(new Uint8Array(32));
const associationKey: AssertionSigningKey = { kind: 'association', handle, secret };
const keyPair = (await crypto.subtle.generateKey('Ed25519', false, [
  'sign',
  'verify',
])) as CryptoKeyPair;
const providerKey: AssertionSigningKey = {
  kind: 'provider',
  kid: 'provider-key-2026-01',
  privateKey: keyPair.privateKey,
};

const claims: AssertionClaims = {
  iss: issuer,
  sub: 'alice@mail.example',
  aud: audience,
  nonce,
  iat: T,
  exp: T + 120,
  jti: 'j'.repeat(22),
};
const expect = { issuer, audience, now: T * 1000 };

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** A compact JWS with any header and payload, HMAC-signed so only the checks under test fail. */
function forge(header: unknown, payload: unknown, key: Uint8Array = secret): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

const goodHeader = { alg: 'HS256', typ: ASSERTION_TYP, kid: handle };

describe('createAssertion', () => {
  it('signs with the association key: HS256, kid = handle, default lifetime', async () => {
    const token = await createAssertion({
      issuer,
      email: 'Alice@Mail.Example',
      audience,
      nonce,
      key: associationKey,
      now: T * 1000 + 999,
    });
    const decoded = decodeAssertion(token);
    assert.deepEqual(decoded.header, { alg: 'HS256', typ: ASSERTION_TYP, kid: handle });
    assert.equal(decoded.claims.sub, 'alice@mail.example');
    assert.equal(decoded.claims.iat, T);
    assert.equal(decoded.claims.exp, T + limits.defaultAssertionLifetimeSeconds);
    assert.match(decoded.claims.jti, TOKEN_PATTERN);
    assert.equal(decoded.claims.invalidate_handle, undefined);
    checkAssertionClaims(decoded.claims, expect);
    await verifyAssociationSignature(token, secret);
  });

  it('signs with the provider key: EdDSA, kid = key id, invalidate_handle carried', async () => {
    const token = await createAssertion({
      issuer,
      email: 'alice@mail.example',
      audience,
      nonce,
      key: providerKey,
      now: T * 1000,
      lifetimeSeconds: 300,
      invalidateHandle: handle,
    });
    const decoded = decodeAssertion(token);
    assert.deepEqual(decoded.header, {
      alg: 'EdDSA',
      typ: ASSERTION_TYP,
      kid: 'provider-key-2026-01',
    });
    assert.equal(decoded.claims.exp, T + 300);
    assert.equal(decoded.claims.invalidate_handle, handle);
    await verifyProviderSignature(token, keyPair.publicKey);
  });

  it('gives every assertion a new jti', async () => {
    const input = {
      issuer,
      email: claims.sub,
      audience,
      nonce,
      key: associationKey,
      now: T * 1000,
    };
    const a = decodeAssertion(await createAssertion(input)).claims.jti;
    const b = decodeAssertion(await createAssertion(input)).claims.jti;
    assert.notEqual(a, b);
  });

  it('refuses a lifetime of zero or beyond the maximum', async () => {
    const input = {
      issuer,
      email: claims.sub,
      audience,
      nonce,
      key: associationKey,
      now: T * 1000,
    };
    await assert.rejects(createAssertion({ ...input, lifetimeSeconds: 0 }), RangeError);
    await assert.rejects(
      createAssertion({ ...input, lifetimeSeconds: limits.maxAssertionLifetimeSeconds + 1 }),
      RangeError,
    );
  });

  it('refuses an invalid email', async () => {
    const input = { issuer, email: 'a@b@c', audience, nonce, key: associationKey, now: T * 1000 };
    await rejectsCode(createAssertion(input), 'invalid_email');
  });
});

describe('decodeAssertion', () => {
  it('decodes a forged-but-well-formed token (no crypto here)', () => {
    assert.deepEqual(decodeAssertion(forge(goodHeader, claims)), { header: goodHeader, claims });
  });

  it('drops unknown header members and claims', () => {
    const decoded = decodeAssertion(forge({ ...goodHeader, cty: 'x' }, { ...claims, email: 'x' }));
    assert.deepEqual(decoded, { header: goodHeader, claims });
  });

  const badHeaders: [string, unknown][] = [
    ['alg none (threat 17)', { ...goodHeader, alg: 'none' }],
    ['alg RS256', { ...goodHeader, alg: 'RS256' }],
    ['alg HS512', { ...goodHeader, alg: 'HS512' }],
    ['alg in lower case', { ...goodHeader, alg: 'hs256' }],
    ['no alg', { typ: ASSERTION_TYP, kid: handle }],
    ['wrong typ (threat 25)', { ...goodHeader, typ: 'JWT' }],
    ['typ in another case', { ...goodHeader, typ: 'BSSO-ASSERTION+JWT' }],
    ['no typ', { alg: 'HS256', kid: handle }],
    ['no kid', { alg: 'HS256', typ: ASSERTION_TYP }],
    ['a malformed kid', { ...goodHeader, kid: '../../etc/passwd' }],
    ['crit (threat 25)', { ...goodHeader, crit: ['exp'], exp: 1 }],
    ['an empty crit', { ...goodHeader, crit: [] }],
    ['jku', { ...goodHeader, jku: 'https://evil.example/jwks' }],
    ['jwk', { ...goodHeader, jwk: { kty: 'oct', k: 'AAAA' } }],
    ['x5u', { ...goodHeader, x5u: 'https://evil.example/cert' }],
    ['x5c', { ...goodHeader, x5c: ['MIIB'] }],
    ['enc', { ...goodHeader, enc: 'A256GCM' }],
    ['zip', { ...goodHeader, zip: 'DEF' }],
    ['b64 false', { ...goodHeader, b64: false }],
    ['an array header', [goodHeader]],
    ['a string header', 'HS256'],
    ['a null header', null],
  ];
  for (const [name, header] of badHeaders) {
    it(`refuses ${name}`, () =>
      throwsCode(() => decodeAssertion(forge(header, claims)), 'invalid_assertion'));
  }

  const good = forge(goodHeader, claims);
  const [h, p, s] = good.split('.') as [string, string, string];
  const badShapes: [string, unknown][] = [
    ['a non-string', 42],
    ['an empty string', ''],
    ['an unsigned token (empty signature)', `${h}.${p}.`],
    ['two parts', `${h}.${p}`],
    ['four parts', `${good}.x`],
    ['JWE compact (5 parts)', `${b64({ alg: 'dir', enc: 'A256GCM' })}..aXY.${p}.dGFn`],
    ['JWE with all parts set', `${h}.${p}.${s}.${s}.${s}`],
    ['JWS JSON serialization', JSON.stringify({ protected: h, payload: p, signature: s })],
    ['JWS flattened JSON in a string', `{"payload":"${p}","signatures":[]}`],
    ['padded base64url', `${h}=.${p}.${s}`],
    ['standard base64 characters', `${h}.${p.slice(0, -1)}+.${s}`],
    ['whitespace', `${h}. ${p}.${s}`],
    ['a header that is not JSON', `${b64('not json')}.${p}.${s}`],
    ['a payload that is not JSON', `${h}.${b64('{"iss":')}.${s}`],
    [
      'a payload that is invalid UTF-8',
      `${h}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.${s}`,
    ],
    [
      'an oversized token',
      forge(goodHeader, { ...claims, pad: 'x'.repeat(limits.maxAssertionLength) }),
    ],
    ['a 1 MB token', 'a'.repeat(1024 * 1024)],
  ];
  for (const [name, token] of badShapes) {
    it(`refuses ${name}`, () => throwsCode(() => decodeAssertion(token), 'invalid_assertion'));
  }

  for (const name of ['iss', 'sub', 'aud', 'nonce', 'iat', 'exp', 'jti'] as const) {
    it(`refuses claims without ${name} (threats 20, 21)`, () => {
      const { [name]: _, ...rest } = claims;
      throwsCode(() => decodeAssertion(forge(goodHeader, rest)), 'invalid_assertion');
    });
  }

  const badClaims: [string, unknown][] = [
    ['aud as an array', { ...claims, aud: [audience] }],
    ['iat as a string', { ...claims, iat: String(T) }],
    ['fractional exp', { ...claims, exp: T + 120.5 }],
    ['negative iat', { ...claims, iat: -1 }],
    ['a short nonce', { ...claims, nonce: 'abc' }],
    ['a malformed jti', { ...claims, jti: 'j j' }],
    ['a malformed invalidate_handle', { ...claims, invalidate_handle: 'x' }],
    ['claims as an array', [claims]],
    ['claims as null', null],
  ];
  for (const [name, payload] of badClaims) {
    it(`refuses ${name}`, () =>
      throwsCode(() => decodeAssertion(forge(goodHeader, payload)), 'invalid_assertion'));
  }

  it('keeps a well-formed invalidate_handle', () => {
    const withHandle = { ...claims, invalidate_handle: handle };
    assert.equal(decodeAssertion(forge(goodHeader, withHandle)).claims.invalidate_handle, handle);
  });
});

describe('checkAssertionClaims', () => {
  const skew = limits.clockSkewSeconds;
  const at = (seconds: number) => ({ ...expect, now: seconds * 1000 });

  it('accepts matching claims', () => checkAssertionClaims(claims, expect));

  it('refuses another issuer (threat 23)', () => {
    throwsCode(
      () => checkAssertionClaims({ ...claims, iss: 'https://evil.example' }, expect),
      'invalid_issuer',
    );
    throwsCode(
      () => checkAssertionClaims({ ...claims, iss: `${issuer}/` }, expect),
      'invalid_issuer',
    );
  });

  it('refuses another audience (threat 20)', () => {
    for (const aud of ['https://evil.example/bsso', `${audience}/`, 'https://site.example/other']) {
      throwsCode(() => checkAssertionClaims({ ...claims, aud }, expect), 'invalid_audience');
    }
  });

  it('refuses a malformed or non-normalized sub', () => {
    throwsCode(() => checkAssertionClaims({ ...claims, sub: 'a@b@c' }, expect), 'invalid_email');
    throwsCode(
      () => checkAssertionClaims({ ...claims, sub: 'Alice@mail.example' }, expect),
      'invalid_assertion',
    );
  });

  it('refuses exp not after iat, and a lifetime beyond the maximum (threat 21)', () => {
    const max = limits.maxAssertionLifetimeSeconds;
    throwsCode(() => checkAssertionClaims({ ...claims, exp: T }, expect), 'invalid_assertion');
    throwsCode(() => checkAssertionClaims({ ...claims, exp: T - 1 }, expect), 'invalid_assertion');
    checkAssertionClaims({ ...claims, exp: T + max }, expect);
    throwsCode(
      () => checkAssertionClaims({ ...claims, exp: T + max + 1 }, expect),
      'invalid_assertion',
    );
    checkAssertionClaims({ ...claims, exp: T + 10 }, { ...expect, maxLifetimeSeconds: 10 });
    throwsCode(
      () => checkAssertionClaims({ ...claims, exp: T + 11 }, { ...expect, maxLifetimeSeconds: 10 }),
      'invalid_assertion',
    );
  });

  it('accepts iat exactly the skew ahead, refuses one second more (threat 37)', () => {
    checkAssertionClaims(claims, at(T - skew));
    throwsCode(() => checkAssertionClaims(claims, at(T - skew - 1)), 'clock_skew');
    // Sub-second clock parts are truncated, never rounded up.
    checkAssertionClaims(claims, { ...expect, now: (T - skew) * 1000 + 999 });
    throwsCode(
      () => checkAssertionClaims(claims, { ...expect, now: (T - skew) * 1000 - 1 }),
      'clock_skew',
    );
  });

  it('accepts an assertion until exp + skew, refuses from exp + skew on (threat 37)', () => {
    const exp = claims.exp;
    checkAssertionClaims(claims, at(exp)); // expired by the clock, inside the skew
    checkAssertionClaims(claims, at(exp + skew - 1)); // last second inside the tolerance
    checkAssertionClaims(claims, { ...expect, now: (exp + skew) * 1000 - 1 });
    throwsCode(() => checkAssertionClaims(claims, at(exp + skew)), 'assertion_expired');
    throwsCode(() => checkAssertionClaims(claims, at(exp + skew + 1)), 'assertion_expired');
  });

  it('honours a configured skew', () => {
    const strict = { ...expect, clockSkewSeconds: 0 };
    checkAssertionClaims(claims, { ...strict, now: (claims.exp - 1) * 1000 });
    throwsCode(
      () => checkAssertionClaims(claims, { ...strict, now: claims.exp * 1000 }),
      'assertion_expired',
    );
    throwsCode(
      () => checkAssertionClaims(claims, { ...strict, now: (T - 1) * 1000 }),
      'clock_skew',
    );
  });

  it('checks issuer before audience before time', () => {
    const wrongAll = {
      ...claims,
      iss: 'https://evil.example',
      aud: 'https://evil.example/',
      exp: 1,
      iat: 0,
    };
    throwsCode(() => checkAssertionClaims(wrongAll, expect), 'invalid_issuer');
    throwsCode(
      () => checkAssertionClaims({ ...wrongAll, iss: issuer }, expect),
      'invalid_audience',
    );
  });
});

for (const implementation of ['auto', 'webcrypto'] as const) {
  describe(`HS256 verification (${implementation === 'auto' ? "Node's HMAC" : 'jose, WebCrypto'})`, () => {
    const verify = (token: string, key: Uint8Array) =>
      verifyAssociationSignature(token, key, { implementation });

    it('verifies an HS256 assertion with its association secret', async () => {
      await verify(await signAssertion(claims, associationKey), secret);
      await verify(forge(goodHeader, claims), secret);
    });

    it('refuses an HMAC made with a foreign key (threat 18)', async () => {
      const foreign = crypto.getRandomValues(new Uint8Array(32));
      const token = await signAssertion(claims, { kind: 'association', handle, secret: foreign });
      await rejectsCode(verify(token, secret), 'invalid_signature');
    });

    it('refuses a tampered payload or signature', async () => {
      const token = await signAssertion(claims, associationKey);
      const [h, , s] = token.split('.');
      const tampered = `${h}.${b64({ ...claims, sub: 'mallory@mail.example' })}.${s}`;
      await rejectsCode(verify(tampered, secret), 'invalid_signature');
      const flipped = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`;
      await rejectsCode(verify(flipped, secret), 'invalid_signature');
      await rejectsCode(verify(`${token}A`, secret), 'invalid_signature');
      await rejectsCode(verify(`${token}.x`, secret), 'invalid_signature');
    });

    it('refuses an unsigned token (alg none) even if it reached the verifier', async () => {
      const none = `${b64({ alg: 'none', typ: ASSERTION_TYP, kid: handle })}.${b64(claims)}.`;
      await rejectsCode(verify(none, secret), 'invalid_signature');
    });

    it('refuses a correct HMAC under a crit or b64 header', async () => {
      for (const extra of [
        { crit: ['exp'], exp: 1 },
        { b64: false, crit: ['b64'] },
      ]) {
        const header = b64({ ...goodHeader, ...extra });
        const payload = b64(claims);
        const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
        await rejectsCode(verify(`${header}.${payload}.${mac}`, secret), 'invalid_signature');
      }
    });

    it('refuses an EdDSA assertion', async () => {
      await rejectsCode(
        verify(await signAssertion(claims, providerKey), secret),
        'invalid_signature',
      );
    });
  });
}

describe('signature verification', () => {
  it('verifies an EdDSA assertion with the provider public key', async () => {
    await verifyProviderSignature(await signAssertion(claims, providerKey), keyPair.publicKey);
  });

  it('refuses an EdDSA assertion under another provider key', async () => {
    const other = (await crypto.subtle.generateKey('Ed25519', false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const token = await signAssertion(claims, providerKey);
    await rejectsCode(verifyProviderSignature(token, other.publicKey), 'invalid_signature');
  });

  it('keeps the algorithms apart: each verifier takes its own alg only', async () => {
    const hs = await signAssertion(claims, associationKey);
    const ed = await signAssertion(claims, providerKey);
    await rejectsCode(verifyProviderSignature(hs, keyPair.publicKey), 'invalid_signature');
    await rejectsCode(verifyAssociationSignature(ed, secret), 'invalid_signature');
  });
});
