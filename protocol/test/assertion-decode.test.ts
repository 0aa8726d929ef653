// The hand-written shape checks of decodeAssertion, its Node base64url path, the HS256 check
// that reuses a decoded header, and randomToken's Node pool, each against what they replace:
// the same tokens accepted with the same result, the same refused with the same error
// (protocol-spec.md#decoding-an-assertion, #verifying-the-signature). Hostile input by
// fast-check; FUZZ_RUNS sets the runs, as in fuzz-parsers.test.ts.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { base64url } from 'jose';
import * as z from 'zod';
import {
  ASSERTION_TYP,
  ASSOCIATION_ALG,
  type AssertionClaims,
  type AssertionHeader,
  BssoError,
  decodeAssertion,
  limits,
  PROVIDER_KEY_ALG,
  randomToken,
  TOKEN_PATTERN,
  verifyAssociationSignature,
} from '../src/index.ts';

const numRuns = Number(process.env.FUZZ_RUNS ?? 300);

// decodeAssertion as it was, with its zod schemas, jose's base64url and a TextDecoder per
// segment: the reference the hand-written checks are held to.
const headerSchema = z.looseObject({
  alg: z.enum([ASSOCIATION_ALG, PROVIDER_KEY_ALG]),
  typ: z.literal(ASSERTION_TYP),
  kid: z.string().regex(TOKEN_PATTERN),
});
const FORBIDDEN_HEADERS = [
  'crit',
  'jku',
  'jwk',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'enc',
  'zip',
  'b64',
];
const claimsSchema = z.looseObject({
  iss: z.string().max(2048),
  sub: z.string().max(limits.maxEmailLength),
  aud: z.string().max(2048),
  nonce: z.string().regex(TOKEN_PATTERN),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
  jti: z.string().regex(TOKEN_PATTERN),
  invalidate_handle: z.string().regex(TOKEN_PATTERN).optional(),
});

function referenceDecode(token: unknown): { header: AssertionHeader; claims: AssertionClaims } {
  if (typeof token !== 'string' || token.length === 0) {
    throw new BssoError('invalid_assertion', 'The assertion is missing.');
  }
  if (token.length > limits.maxAssertionLength) {
    throw new BssoError('invalid_assertion', 'The assertion is too long.');
  }
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) {
    throw new BssoError('invalid_assertion', 'The assertion is not a compact JWS.');
  }
  const header = referenceSegment(parts[0] ?? '');
  const payload = referenceSegment(parts[1] ?? '');
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new BssoError('invalid_assertion', 'The assertion header is malformed.');
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(header, name)) {
      throw new BssoError('invalid_assertion', `The assertion header must not have "${name}".`);
    }
  }
  const h = headerSchema.safeParse(header);
  if (!h.success) {
    throw new BssoError('invalid_assertion', 'The assertion header has a wrong alg, typ or kid.');
  }
  const c = claimsSchema.safeParse(payload);
  if (!c.success) throw new BssoError('invalid_assertion', 'The assertion claims are malformed.');
  const { invalidate_handle, ...required } = c.data;
  const claims: AssertionClaims = {
    iss: required.iss,
    sub: required.sub,
    aud: required.aud,
    nonce: required.nonce,
    iat: required.iat,
    exp: required.exp,
    jti: required.jti,
  };
  if (invalidate_handle !== undefined) claims.invalidate_handle = invalidate_handle;
  return { header: { alg: h.data.alg, typ: h.data.typ, kid: h.data.kid }, claims };
}

function referenceSegment(segment: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(segment)));
  } catch {
    throw new BssoError('invalid_assertion', 'The assertion is not valid base64url JSON.');
  }
}

type Outcome = { value: unknown } | { code: string; message: string };
function outcome(fn: () => unknown): Outcome {
  try {
    return { value: fn() };
  } catch (err) {
    assert.ok(err instanceof BssoError, `escaped: ${String(err)}`);
    return { code: err.code, message: err.message };
  }
}
async function asyncOutcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await fn() };
  } catch (err) {
    assert.ok(err instanceof BssoError, `escaped: ${String(err)}`);
    return { code: err.code, message: err.message };
  }
}

/** The reference, the Node path and the portable (browser) path agree on `token`. */
function sameDecoding(token: unknown): Outcome {
  const expected = outcome(() => referenceDecode(token));
  const label = typeof token === 'string' ? token : typeof token;
  assert.deepStrictEqual(
    outcome(() => decodeAssertion(token)),
    expected,
    label,
  );
  assert.deepStrictEqual(
    outcome(() => decodeAssertion(token, { implementation: 'portable' })),
    expected,
    label,
  );
  return expected;
}

const T = 1_900_000_000;
const goodHeader = { alg: 'HS256', typ: ASSERTION_TYP, kid: 'k'.repeat(22) };
const goodClaims = {
  iss: 'https://mail.example',
  sub: 'alice@mail.example',
  aud: 'https://site.example/bsso',
  nonce: 'n'.repeat(43),
  iat: T,
  exp: T + 120,
  jti: 'j'.repeat(22),
};
const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64url');
const enc = (value: unknown) => b64(JSON.stringify(value) ?? 'null');
const SIG = 'c'.repeat(43);

// Values near every boundary the checks draw: types, integer range, lengths, token shape.
const edgeNumber = fc.constantFrom(
  0,
  -0,
  1,
  -1,
  1.5,
  T,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 60,
  1e21,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
);
const tokenish = fc.oneof(
  fc.integer({ min: 0, max: 600 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom(15, 16, 512, 513).map((n) => 'A_-9'.repeat(n).slice(0, n)),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(`${'a'.repeat(16)}\n`, ' '.repeat(16), `${'a'.repeat(16)}=`, 'é'.repeat(16)),
);
const lengthy = fc.oneof(
  fc.constantFrom(2047, 2048, 2049, 253, 254, 255, 0).map((n) => 'x'.repeat(n)),
  fc.constantFrom(127, 128, 1024, 1025).map((n) => '😀'.repeat(n)),
);
const anyValue = fc.oneof(
  edgeNumber,
  tokenish,
  lengthy,
  fc.constantFrom(null, true, false, [], {}, ['x'], { a: 1 }),
  fc.constantFrom('HS256', 'EdDSA', 'none', 'hs256', ASSERTION_TYP, 'JWT'),
  fc.jsonValue({ maxDepth: 2 }),
);
/** An object with members replaced, removed, or added (also forbidden and prototype names). */
function mutated(base: Record<string, unknown>) {
  const keys = Object.keys(base);
  const extraKey = fc.oneof(
    fc.constantFrom(...FORBIDDEN_HEADERS, '__proto__', 'constructor', 'toString', 'cty'),
    fc.constantFrom('invalidate_handle', 'email', 'alg', 'kid'),
    fc.string({ maxLength: 10 }),
  );
  const step = fc.oneof(
    fc.tuple(fc.constantFrom(...keys), anyValue).map(([k, v]) => (o: Record<string, unknown>) => {
      o[k] = v;
    }),
    fc.constantFrom(...keys).map((k) => (o: Record<string, unknown>) => {
      delete o[k];
    }),
    fc.tuple(extraKey, anyValue).map(([k, v]) => (o: Record<string, unknown>) => {
      Object.defineProperty(o, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }),
  );
  return fc.array(step, { maxLength: 3 }).map((steps) => {
    const o: Record<string, unknown> = { ...base };
    for (const s of steps) s(o);
    return o;
  });
}
const jsonText = (base: Record<string, unknown>) =>
  fc.oneof(
    { arbitrary: mutated(base).map((o) => JSON.stringify(o)), weight: 6 },
    fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    // Numbers JSON.stringify never writes, and text around a valid object.
    fc
      .tuple(fc.constantFrom('iat', 'exp'), fc.constantFrom('1e400', '-1e400', '1.0', '-0', '1E3'))
      .map(([k, n]) => JSON.stringify(base).replace(/}$/, `,"${k}":${n}}`)),
    fc
      .tuple(
        fc.constantFrom('\uFEFF', ' ', '\n', '\u00a0', '\u2028', ''),
        fc.constantFrom('', ' ', 'x', '\uFEFF'),
      )
      .map(([before, after]) => `${before}${JSON.stringify(base)}${after}`),
  );
/** A segment: base64url of UTF-8 text, of raw bytes, or base64url-ish text that is not. */
const segment = (base: Record<string, unknown>) =>
  fc.oneof(
    { arbitrary: jsonText(base).map((t) => b64(t)), weight: 8 },
    // Invalid UTF-8 (lone continuation bytes, overlongs, surrogates) inside a valid object.
    fc
      .tuple(
        jsonText(base),
        fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xef, 0xbb, 0xbf]),
        fc.nat(20),
      )
      .map(([t, bad, at]) => {
        const bytes = Buffer.from(t);
        const i = Math.min(at, bytes.length);
        return b64(Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)]));
      }),
    // A valid segment with characters added or cut (lengths of 4k+1, non-zero unused bits).
    fc
      .tuple(jsonText(base), fc.constantFrom('', 'A', 'B', 'AA', 'AB', 'AAA', '_', '-'), fc.nat(3))
      .map(([t, extra, cut]) => {
        const s = b64(t) + extra;
        return s.slice(0, s.length - cut) || 'A';
      }),
    fc.string({ unit: fc.constantFrom(...'ABCabc019-_'.split('')), minLength: 1, maxLength: 12 }),
  );
const hostileToken = fc.oneof(
  {
    arbitrary: fc
      .tuple(segment(goodHeader), segment(goodClaims), fc.constantFrom(SIG, 'x', ''))
      .map(([h, c, s]) => `${h}.${c}.${s}`),
    weight: 10,
  },
  fc
    .tuple(fc.constantFrom('', '.', '..', '=', ' ', '\n', '+', '/'), fc.nat(200))
    .map(([junk, at]) => {
      const t = `${enc(goodHeader)}.${enc(goodClaims)}.${SIG}`;
      return t.slice(0, at) + junk + t.slice(at);
    }),
  fc.string({ maxLength: 200 }),
  fc.anything(),
);

describe('decodeAssertion against its zod schemas', () => {
  it('accepts a good token with the same result on every path', () => {
    const o = sameDecoding(`${enc(goodHeader)}.${enc(goodClaims)}.${SIG}`);
    assert.ok('value' in o);
  });

  const edges: [string, string, string][] = [
    ['a header behind a UTF-8 BOM', b64(`\uFEFF${JSON.stringify(goodHeader)}`), enc(goodClaims)],
    ['claims behind a UTF-8 BOM', enc(goodHeader), b64(`\uFEFF${JSON.stringify(goodClaims)}`)],
    ['two BOMs', b64(`\uFEFF\uFEFF${JSON.stringify(goodHeader)}`), enc(goodClaims)],
    ['a header of 4k+1 characters', `${enc(goodHeader)}A`, enc(goodClaims)],
    ['claims of 4k+1 characters', enc(goodHeader), `${enc(goodClaims).padEnd(401, 'A')}`],
    ['non-zero unused bits', `${enc(goodHeader).slice(0, -1)}_`, enc(goodClaims)],
    ['iat 2^53', enc(goodHeader), enc({ ...goodClaims, iat: 2 ** 53 })],
    ['exp 1e400', enc(goodHeader), b64(JSON.stringify(goodClaims).replace(/}$/, ',"exp":1e400}'))],
    ['iat -0', enc(goodHeader), b64(JSON.stringify(goodClaims).replace(/}$/, ',"iat":-0}'))],
    ['invalidate_handle null', enc(goodHeader), enc({ ...goodClaims, invalidate_handle: null })],
    [
      'an own __proto__ member',
      b64(JSON.stringify(goodHeader).replace('{', '{"__proto__":{"crit":1},')),
      enc(goodClaims),
    ],
    ['iss of 2048 characters', enc(goodHeader), enc({ ...goodClaims, iss: 'x'.repeat(2048) })],
    ['iss of 2049 characters', enc(goodHeader), enc({ ...goodClaims, iss: 'x'.repeat(2049) })],
    ['sub of 255 characters', enc(goodHeader), enc({ ...goodClaims, sub: 'x'.repeat(255) })],
    ['sub of 254 code points', enc(goodHeader), enc({ ...goodClaims, sub: '😀'.repeat(254) })],
    ['sub of 255 code points', enc(goodHeader), enc({ ...goodClaims, sub: '😀'.repeat(255) })],
    [
      'sub of 254 code points and a lone surrogate',
      enc(goodHeader),
      enc({ ...goodClaims, sub: `${'😀'.repeat(254)}\ud83d` }),
    ],
    [
      'sub of 253 pairs and two lone surrogates',
      enc(goodHeader),
      enc({ ...goodClaims, sub: `\ude00${'😀'.repeat(253)}\ud83d` }),
    ],
    ['kid of 513 characters', enc({ ...goodHeader, kid: 'k'.repeat(513) }), enc(goodClaims)],
  ];
  for (const [name, h, c] of edges) {
    it(`agrees on ${name}`, () => {
      sameDecoding(`${h}.${c}.${SIG}`);
    });
  }

  it('agrees on hostile tokens', () => {
    fc.assert(
      fc.property(hostileToken, (t) => {
        sameDecoding(t);
      }),
      { numRuns },
    );
  });

  it('agrees on hostile headers and claims that are valid base64url JSON', () => {
    fc.assert(
      fc.property(mutated(goodHeader), mutated(goodClaims), (h, c) => {
        sameDecoding(`${enc(h)}.${enc(c)}.${SIG}`);
      }),
      { numRuns },
    );
  });
});

// verifyAssociationSignature's Node path as it was (the header parsed again, the signature
// decoded and re-encoded: canonical base64url only, then the HMAC compared), with the shape
// rules both paths now share: jose refused those tokens already, and decodeAssertion too.
async function referenceVerify(token: string, secret: Uint8Array): Promise<void> {
  const parts = token.split('.');
  const shape =
    parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p) && p.length % 4 !== 1);
  let valid = shape && referencePlainHs256(parts[0] ?? '');
  if (valid) {
    const [h, p, s] = parts as [string, string, string];
    let given: Uint8Array | undefined;
    try {
      given = base64url.decode(s);
    } catch {
      given = undefined;
    }
    const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
    valid =
      given !== undefined &&
      base64url.encode(given) === s &&
      given.length === expected.length &&
      timingSafeEqual(given, expected);
  }
  if (!valid) throw new BssoError('invalid_signature', 'The assertion signature does not verify.');
}

function referencePlainHs256(segment: string): boolean {
  try {
    const header: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(segment)),
    );
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return false;
    const h = header as Record<string, unknown>;
    return h.alg === ASSOCIATION_ALG && !('crit' in h) && !('b64' in h);
  } catch {
    return false;
  }
}

describe('verifyAssociationSignature: Node and jose, after a decode and without', () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const sign = (input: string) => createHmac('sha256', secret).update(input).digest('base64url');
  const input = `${enc(goodHeader)}.${enc(goodClaims)}`;
  const good = `${input}.${sign(input)}`;

  /** Each way to verify `token` gives the outcome of the Node path as it was. */
  async function sameVerdict(token: string): Promise<Outcome> {
    decodeAssertion(good); // leaves another token as the last one decoded
    const verify = (implementation: 'auto' | 'webcrypto') => () =>
      verifyAssociationSignature(token, secret, { implementation });
    const expected = await asyncOutcome(() => referenceVerify(token, secret));
    assert.deepStrictEqual(await asyncOutcome(verify('auto')), expected, token);
    assert.deepStrictEqual(await asyncOutcome(verify('webcrypto')), expected, token);
    if ('value' in outcome(() => decodeAssertion(token))) {
      // Right after its own decode (the site's order): the header is not parsed again.
      assert.deepStrictEqual(await asyncOutcome(verify('auto')), expected, token);
      decodeAssertion(token);
      assert.deepStrictEqual(await asyncOutcome(verify('webcrypto')), expected, token);
    }
    return expected;
  }

  it('accepts the good token every way', async () => {
    assert.ok('value' in (await sameVerdict(good)));
  });

  const mac = sign(input);
  const signatures: [string, string][] = [
    ['non-zero unused bits', `${mac.slice(0, -1)}${mac.endsWith('B') ? 'C' : 'B'}`],
    ['padding', `${mac}=`],
    ['a standard base64 character', `+${mac.slice(1)}`],
    ['another standard base64 character', `${mac.slice(0, 9)}/${mac.slice(10)}`],
    ['a character more', `${mac}A`],
    ['a character less', mac.slice(0, -1)],
    ['a non-ASCII character', `${mac.slice(0, -1)}é`],
    [
      'a character beyond Latin-1 that truncates to the right one',
      `${mac.slice(0, -1)}${String.fromCharCode(0x100 + mac.charCodeAt(42))}`,
    ],
    ['whitespace', `${mac.slice(0, 20)} ${mac.slice(20)}`],
    ['empty', ''],
  ];
  for (const [name, s] of signatures) {
    it(`refuses a signature with ${name} every way`, async () => {
      assert.ok('code' in (await sameVerdict(`${input}.${s}`)));
    });
  }

  it('refuses a correct HMAC under an EdDSA header, also right after decoding it', async () => {
    const i = `${enc({ ...goodHeader, alg: 'EdDSA' })}.${enc(goodClaims)}`;
    const token = `${i}.${sign(i)}`;
    assert.equal(decodeAssertion(token).header.alg, 'EdDSA');
    assert.ok('code' in (await sameVerdict(token)));
  });

  it('agrees on hostile tokens and signatures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .tuple(segment(goodHeader), segment(goodClaims))
            .map(([h, c]) => `${h}.${c}.${sign(`${h}.${c}`)}`),
          fc.tuple(fc.nat(43), fc.string({ maxLength: 3 })).map(([at, s]) => {
            return `${input}.${mac.slice(0, at)}${s}${mac.slice(at + s.length)}`;
          }),
          fc.tuple(mutated(goodHeader), fc.constantFrom('', '.x', '..')).map(([h, extra]) => {
            const i = `${enc(h)}.${enc(goodClaims)}${extra}`;
            return `${i}.${sign(i)}`;
          }),
        ),
        async (token) => {
          await sameVerdict(token);
        },
      ),
      { numRuns },
    );
  });
});

describe('randomToken: Node pool and WebCrypto', () => {
  for (const implementation of ['auto', 'webcrypto'] as const) {
    it(`${implementation}: unpadded base64url of exactly n random bytes`, () => {
      for (const n of [1, 2, 3, 15, 16, 17, 32, 33, 64, 4095, 4096, 5000]) {
        const t = randomToken(n, { implementation });
        assert.match(t, /^[A-Za-z0-9_-]*$/);
        assert.equal(t.length, Math.ceil((n * 4) / 3));
        assert.equal(Buffer.from(t, 'base64url').toString('base64url'), t, 'canonical');
        assert.equal(base64url.decode(t).length, n);
      }
      assert.equal(randomToken(0, { implementation }), '');
    });

    it(`${implementation}: no token twice, across pool refills`, () => {
      const seen = new Set<string>();
      for (let i = 0; i < 3000; i++) seen.add(randomToken(16, { implementation }));
      assert.equal(seen.size, 3000);
      // 48 000 random bytes: every byte value about 188 times, none far off.
      const counts = new Array<number>(256).fill(0);
      for (const t of seen)
        for (const b of Buffer.from(t, 'base64url')) counts[b] = (counts[b] ?? 0) + 1;
      assert.ok(Math.min(...counts) > 100 && Math.max(...counts) < 300, `${counts}`);
    });
  }

  it('refuses what it refused before: a negative or huge length', () => {
    for (const implementation of ['auto', 'webcrypto'] as const) {
      assert.throws(() => randomToken(-1, { implementation }));
      assert.throws(() => randomToken(70_000, { implementation }));
    }
  });
});
