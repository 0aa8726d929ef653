// The assertion JWT: creation and verification (protocol-spec.md#assertion).
import { base64url, CompactSign, type CryptoKey, compactVerify } from 'jose';
import * as z from 'zod';
import { signCompactWithNode } from './assertion-signing.ts';
import { ASSERTION_TYP, ASSOCIATION_ALG, limits, PROVIDER_KEY_ALG } from './constants.ts';
import { parseEmail } from './email.ts';
import { BssoError } from './errors.ts';
import { randomToken, TOKEN_PATTERN } from './random.ts';

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

export interface DecodedAssertion {
  header: AssertionHeader;
  claims: AssertionClaims;
}

/**
 * Reads an assertion's header and claims WITHOUT verifying the signature, with strict shape
 * checks: compact JWS only, an allowed `alg`, the BSSO `typ`, no key-selecting or
 * critical headers, every claim present with its type. Run before any crypto or network.
 */
export function decodeAssertion(token: unknown): DecodedAssertion {
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
  const header = parseSegment(parts[0] ?? '');
  const payload = parseSegment(parts[1] ?? '');
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

function parseSegment(segment: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(segment)));
  } catch {
    throw new BssoError('invalid_assertion', 'The assertion is not valid base64url JSON.');
  }
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
   * elsewhere; `webcrypto` forces jose. Both accept and refuse exactly the same tokens.
   */
  implementation?: 'auto' | 'webcrypto';
}

type NodeCrypto = typeof import('node:crypto');
// Node's HMAC is about 5x faster than the asynchronous WebCrypto job jose runs per
// verification (bench/README.md), and a site verifies every warm sign-in this way.
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;

/** Verifies the HMAC of an association-signed assertion with the association's secret. */
export async function verifyAssociationSignature(
  token: string,
  secret: Uint8Array,
  options: HmacVerifyOptions = {},
): Promise<void> {
  const parts = token.split('.');
  let valid = parts.length === 3 && isPlainHs256Header(parts[0] ?? '');
  if (valid && nodeCrypto && options.implementation !== 'webcrypto') {
    valid = verifyHmacWithNode(nodeCrypto, parts as [string, string, string], secret);
  } else if (valid) {
    valid = await compactVerify(token, secret, { algorithms: [ASSOCIATION_ALG] }).then(
      () => true,
      () => false,
    );
  }
  if (!valid) throw new BssoError('invalid_signature', 'The assertion signature does not verify.');
}

/** HS256 and nothing that changes what is signed (`crit`, `b64`), whichever HMAC runs. */
function isPlainHs256Header(segment: string): boolean {
  try {
    const header: unknown = JSON.parse(new TextDecoder().decode(base64url.decode(segment)));
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
function hmacKey(node: NodeCrypto, secret: Uint8Array) {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = node.createSecretKey(secret);
    hmacKeys.set(secret, key);
  }
  return key;
}

/** The HMAC of a compact JWS with Node's crypto and a constant-time compare. */
function verifyHmacWithNode(
  node: NodeCrypto,
  [header, payload, signature]: [string, string, string],
  secret: Uint8Array,
): boolean {
  let given: Uint8Array;
  try {
    given = base64url.decode(signature);
  } catch {
    return false;
  }
  // Refuse non-canonical base64url, as a strict decoder does.
  if (base64url.encode(given) !== signature) return false;
  const expected = node
    .createHmac('sha256', hmacKey(node, secret))
    .update(`${header}.${payload}`)
    .digest();
  return given.length === expected.length && node.timingSafeEqual(given, expected);
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
