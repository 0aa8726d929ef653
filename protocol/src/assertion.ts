// The assertion JWT: creation and verification (protocol-spec.md#assertion).
import { base64url, CompactSign, type CryptoKey, compactVerify } from 'jose';
import { signCompactWithNode } from './assertion-signing.ts';
import { ASSERTION_TYP, ASSOCIATION_ALG, limits, PROVIDER_KEY_ALG } from './constants.ts';
import { parseEmail } from './email.ts';
import { BssoError } from './errors.ts';
import { randomToken, TOKEN_PATTERN } from './random.ts';

type NodeCrypto = typeof import('node:crypto');
type NodeModules = {
  crypto: NodeCrypto;
  Buffer: typeof import('node:buffer')['Buffer'];
};
// Node's HMAC is about 5x faster than the asynchronous WebCrypto job jose runs per
// verification (bench/README.md), and a site verifies every warm sign-in this way; Buffer
// decodes base64url in one native call where jose goes through atob and two replaces.
const nodeProcess = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
  .process;
const node: NodeModules | undefined =
  nodeProcess?.getBuiltinModule === undefined
    ? undefined
    : {
        crypto: nodeProcess.getBuiltinModule('node:crypto') as NodeCrypto,
        Buffer: (nodeProcess.getBuiltinModule('node:buffer') as typeof import('node:buffer'))
          .Buffer,
      };

// The last token decodeAssertion accepted with alg HS256: its header is then known to be HS256
// without `crit` or `b64`, and a verification of the same string right after (the site's
// step 6) need not decode and parse it again. Any other string is checked in full.
let lastDecodedHs256: string | undefined;

export interface AssertionClaims {
  /** The provider's issuer origin. */
  iss: string;
  /** The email address, normalized. */
  sub: string;
  /** The site's endpoint URL. */
  aud: string;
  nonce: string;
  iat: number;
  exp: number;
  jti: string;
  /** A handle the provider no longer honours; the site purges it (protocol-spec.md#invalidation). */
  invalidate_handle?: string;
}

export interface AssertionHeader {
  alg: typeof ASSOCIATION_ALG | typeof PROVIDER_KEY_ALG;
  typ: typeof ASSERTION_TYP;
  /** An association handle (HS256) or a provider key id (EdDSA). */
  kid: string;
}

/** The key an assertion is signed with. */
export type AssertionSigningKey =
  | { kind: 'association'; handle: string; secret: Uint8Array }
  | { kind: 'provider'; kid: string; privateKey: CryptoKey };

export interface CreateAssertionInput {
  issuer: string;
  email: string;
  audience: string;
  nonce: string;
  key: AssertionSigningKey;
  /** Current time in milliseconds since the epoch. */
  now: number;
  lifetimeSeconds?: number;
  invalidateHandle?: string;
}

export async function createAssertion(input: CreateAssertionInput): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  const lifetime = input.lifetimeSeconds ?? limits.defaultAssertionLifetimeSeconds;
  if (lifetime <= 0 || lifetime > limits.maxAssertionLifetimeSeconds) {
    throw new RangeError('assertion lifetime out of range');
  }
  const claims: AssertionClaims = {
    iss: input.issuer,
    sub: parseEmail(input.email).address,
    aud: input.audience,
    nonce: input.nonce,
    iat,
    exp: iat + lifetime,
    jti: randomToken(limits.idBytes),
  };
  if (input.invalidateHandle !== undefined) claims.invalidate_handle = input.invalidateHandle;
  return signAssertion(claims, input.key);
}

export interface SignOptions {
  /**
   * `auto` (default) signs with Node's crypto where it exists (signCompactWithNode) and with
   * jose (WebCrypto) elsewhere; `webcrypto` forces jose. Both make the same token, byte for byte.
   */
  implementation?: 'auto' | 'webcrypto';
}

/** Signs given claims as they are; test vectors and `createAssertion` use it. */
export async function signAssertion(
  claims: AssertionClaims,
  key: AssertionSigningKey,
  options: SignOptions = {},
): Promise<string> {
  const payload = JSON.stringify(claims);
  const header: AssertionHeader & Record<string, unknown> =
    key.kind === 'association'
      ? { alg: ASSOCIATION_ALG, typ: ASSERTION_TYP, kid: key.handle }
      : { alg: PROVIDER_KEY_ALG, typ: ASSERTION_TYP, kid: key.kid };
  if (options.implementation !== 'webcrypto') {
    const token = signCompactWithNode(
      header,
      payload,
      key.kind === 'association'
        ? { alg: ASSOCIATION_ALG, secret: key.secret }
        : { alg: PROVIDER_KEY_ALG, privateKey: key.privateKey },
    );
    if (token !== undefined) return token;
  }
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader(header)
    .sign(key.kind === 'association' ? key.secret : key.privateKey);
}

// Header members that would let a token pick its own key, or change how it is processed.
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

export interface DecodedAssertion {
  header: AssertionHeader;
  claims: AssertionClaims;
}

export interface DecodeOptions {
  /**
   * `auto` (default) decodes base64url with Node's Buffer where it exists; `portable` with
   * jose's decoder, as in browsers. Both accept and refuse exactly the same tokens, with the
   * same errors.
   */
  implementation?: 'auto' | 'portable';
}

// Three non-empty base64url segments and nothing else (no padding, no whitespace).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Reads an assertion's header and claims WITHOUT verifying the signature, with strict shape
 * checks: compact JWS only, an allowed `alg`, the BSSO `typ`, no key-selecting or
 * critical headers, every claim present with its type. Run before any crypto or network.
 */
export function decodeAssertion(token: unknown, options: DecodeOptions = {}): DecodedAssertion {
  if (typeof token !== 'string' || token.length === 0) {
    throw new BssoError('invalid_assertion', 'The assertion is missing.');
  }
  if (token.length > limits.maxAssertionLength) {
    throw new BssoError('invalid_assertion', 'The assertion is too long.');
  }
  if (!COMPACT_JWS.test(token)) {
    throw new BssoError('invalid_assertion', 'The assertion is not a compact JWS.');
  }
  const portable = options.implementation === 'portable';
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  const header = parseSegment(token.slice(0, firstDot), portable);
  const payload = parseSegment(token.slice(firstDot + 1, secondDot), portable);
  if (!isJsonObject(header)) {
    throw new BssoError('invalid_assertion', 'The assertion header is malformed.');
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(header, name)) {
      throw new BssoError('invalid_assertion', `The assertion header must not have "${name}".`);
    }
  }
  const { alg, typ, kid } = header;
  if (
    (alg !== ASSOCIATION_ALG && alg !== PROVIDER_KEY_ALG) ||
    typ !== ASSERTION_TYP ||
    !isToken(kid)
  ) {
    throw new BssoError('invalid_assertion', 'The assertion header has a wrong alg, typ or kid.');
  }
  if (!isJsonObject(payload) || !hasClaimTypes(payload)) {
    throw new BssoError('invalid_assertion', 'The assertion claims are malformed.');
  }
  const claims: AssertionClaims = {
    iss: payload.iss,
    sub: payload.sub,
    aud: payload.aud,
    nonce: payload.nonce,
    iat: payload.iat,
    exp: payload.exp,
    jti: payload.jti,
  };
  if (payload.invalidate_handle !== undefined) claims.invalidate_handle = payload.invalidate_handle;
  lastDecodedHs256 = alg === ASSOCIATION_ALG ? token : undefined;
  return { header: { alg, typ, kid }, claims };
}

// The shape checks by hand: these ran as zod schemas, a tenth of a site's sign-in with the
// decoding (bench/README.md, section 2). test/assertion-decode.test.ts holds the schemas they
// replace and compares both on hostile input.
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_PATTERN.test(value);
}

/** At most `maxLength` code points (zod's `max`: a surrogate pair counts once). */
function isStringUpTo(value: unknown, maxLength: number): value is string {
  if (typeof value !== 'string') return false;
  if (value.length <= maxLength) return true;
  let length = value.length;
  for (let i = 0; i < value.length - 1 && length > maxLength; i++) {
    const high = value.charCodeAt(i);
    if ((high & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length--;
      i++;
    }
  }
  return length <= maxLength;
}

/** A non-negative integer within the safe range (zod's `number().int().nonnegative()`). */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function hasClaimTypes(c: Record<string, unknown>): c is Record<string, unknown> &
  Omit<AssertionClaims, 'invalidate_handle'> & {
    invalidate_handle?: string | undefined;
  } {
  return (
    isStringUpTo(c.iss, 2048) &&
    isStringUpTo(c.sub, limits.maxEmailLength) &&
    isStringUpTo(c.aud, 2048) &&
    isToken(c.nonce) &&
    isNumericDate(c.iat) &&
    isNumericDate(c.exp) &&
    isToken(c.jti) &&
    (c.invalidate_handle === undefined || isToken(c.invalidate_handle))
  );
}

// One decoder for every segment (making one per segment was a measurable part of decoding);
// without `stream` a decode() keeps no state from the one before.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseSegment(segment: string, portable: boolean): unknown {
  try {
    const bytes = node && !portable ? nodeBase64url(node, segment) : base64url.decode(segment);
    return JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw new BssoError('invalid_assertion', 'The assertion is not valid base64url JSON.');
  }
}

/**
 * The bytes jose's decoder gives in Node (atob) for a segment of base64url characters:
 * Buffer decodes the same bytes, but would drop a last lone character that atob refuses.
 */
function nodeBase64url({ Buffer }: NodeModules, segment: string): Uint8Array {
  if (segment.length % 4 === 1) throw new TypeError('base64url of 4k+1 characters');
  return Buffer.from(segment, 'base64url');
}

export interface ClaimExpectations {
  /** The issuer the email's domain names (from discovery), as an origin. */
  issuer: string;
  /** The site's endpoint URL exactly. */
  audience: string;
  /** Current time in milliseconds since the epoch. */
  now: number;
  clockSkewSeconds?: number;
  maxLifetimeSeconds?: number;
}

/** Checks the claims against what the verifier expects, in the spec's order. */
export function checkAssertionClaims(claims: AssertionClaims, expect: ClaimExpectations): void {
  const skew = expect.clockSkewSeconds ?? limits.clockSkewSeconds;
  const maxLifetime = expect.maxLifetimeSeconds ?? limits.maxAssertionLifetimeSeconds;
  const now = Math.floor(expect.now / 1000);
  if (claims.iss !== expect.issuer) {
    throw new BssoError(
      'invalid_issuer',
      'The assertion issuer is not the provider of its domain.',
    );
  }
  if (claims.aud !== expect.audience) {
    throw new BssoError('invalid_audience', 'The assertion is for another site.');
  }
  // `sub` is the normalized address (lower case), so one user never has two identities at a site.
  if (parseEmail(claims.sub).address !== claims.sub) {
    throw new BssoError('invalid_assertion', 'The assertion subject is not a normalized address.');
  }
  if (claims.exp <= claims.iat || claims.exp - claims.iat > maxLifetime) {
    throw new BssoError('invalid_assertion', 'The assertion lifetime is out of range.');
  }
  if (claims.iat > now + skew) {
    throw new BssoError('clock_skew', 'The assertion was issued in the future.');
  }
  if (claims.exp <= now - skew) {
    throw new BssoError('assertion_expired', 'The assertion has expired.');
  }
}

export interface HmacVerifyOptions {
  /**
   * `auto` (default) uses Node's synchronous HMAC where it exists and jose (WebCrypto)
   * elsewhere; `webcrypto` forces jose. Both accept and refuse exactly the same tokens: a
   * signature must be canonical unpadded base64url either way.
   */
  implementation?: 'auto' | 'webcrypto';
}

/** Verifies the HMAC of an association-signed assertion with the association's secret. */
export async function verifyAssociationSignature(
  token: string,
  secret: Uint8Array,
  options: HmacVerifyOptions = {},
): Promise<void> {
  let valid = token === lastDecodedHs256 || isPlainHs256Compact(token);
  if (valid && node && options.implementation !== 'webcrypto') {
    valid = verifyHmacWithNode(node, token, secret);
  } else if (valid) {
    // jose's decoder (atob) would also take non-zero unused bits in the last character.
    valid =
      isCanonicalBase64url(token.slice(token.lastIndexOf('.') + 1)) &&
      (await compactVerify(token, secret, { algorithms: [ASSOCIATION_ALG] }).then(
        () => true,
        () => false,
      ));
  }
  if (!valid) throw new BssoError('invalid_signature', 'The assertion signature does not verify.');
}

/** The signature's text is the one unpadded base64url of its bytes, as Node's path requires. */
function isCanonicalBase64url(segment: string): boolean {
  try {
    return base64url.encode(base64url.decode(segment)) === segment;
  } catch {
    return false;
  }
}

/**
 * What both HMAC paths require before any HMAC: three non-empty base64url segments that
 * jose's decoder takes (none of 4k+1 characters), and a header that is UTF-8 JSON with alg
 * HS256 and nothing that changes what is signed (`crit`, `b64`). jose refuses the rest of its
 * own accord; Node's path used to let some through (a payload it never decodes, a header
 * that is not UTF-8), which no token decodeAssertion accepts has.
 */
function isPlainHs256Compact(token: string): boolean {
  if (!COMPACT_JWS.test(token)) return false;
  const parts = token.split('.');
  if (parts.some((part) => part.length % 4 === 1)) return false;
  try {
    const header: unknown = JSON.parse(strictUtf8.decode(base64url.decode(parts[0] ?? '')));
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return false;
    const h = header as Record<string, unknown>;
    return h.alg === ASSOCIATION_ALG && !('crit' in h) && !('b64' in h);
  } catch {
    return false;
  }
}

// Making a KeyObject from raw bytes was a tenth of a warm verification's CPU time; a site's
// association cache hands out the same secret object for every sign-in, so keep one per secret.
const hmacKeys = new WeakMap<Uint8Array, ReturnType<NodeCrypto['createSecretKey']>>();
function hmacKey({ crypto }: NodeModules, secret: Uint8Array) {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.createSecretKey(secret);
    hmacKeys.set(secret, key);
  }
  return key;
}

/**
 * The HMAC of a compact JWS (three segments) with Node's crypto and a constant-time compare.
 * A signature verifies when it is canonical unpadded base64url that decodes to the HMAC; the
 * only such text is the HMAC's own base64url, so the signature is compared with that text
 * instead of being decoded and encoded again.
 */
function verifyHmacWithNode(node: NodeModules, token: string, secret: Uint8Array): boolean {
  const lastDot = token.lastIndexOf('.');
  const expected = node.Buffer.from(
    node.crypto
      .createHmac('sha256', hmacKey(node, secret))
      .update(token.slice(0, lastDot))
      .digest('base64url'),
    'latin1',
  );
  // UTF-8, so that a non-ASCII character never equals an ASCII byte.
  const given = node.Buffer.from(token.slice(lastDot + 1), 'utf8');
  return given.length === expected.length && node.crypto.timingSafeEqual(given, expected);
}

/** Verifies a provider-key-signed assertion with the provider's public key for its `kid`. */
export async function verifyProviderSignature(token: string, publicKey: CryptoKey): Promise<void> {
  try {
    await compactVerify(token, publicKey, { algorithms: [PROVIDER_KEY_ALG] });
  } catch (err) {
    throw new BssoError('invalid_signature', 'The assertion signature does not verify.', {
      cause: err,
    });
  }
}
