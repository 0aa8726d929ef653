// Verification of a delivered assertion, the spec's steps 2 to 6 in order
// (protocol-spec.md#site-verification; step 1 is delivery.ts, step 7 the session). Each step
// throws a BssoError with its code.
import {
  ASSOCIATION_ALG,
  type AssertionClaims,
  BssoError,
  checkAssertionClaims,
  type DecodedAssertion,
  decodeAssertion,
  type ProviderConfig,
  parseEmail,
  verifyAssociationSignature,
} from '@bsso/protocol';
import type { Associations } from './associations.ts';
import type { Brokers } from './brokers.ts';
import { verifyDirectly } from './direct.ts';
import type { Discovery } from './discovery.ts';
import type { Outbound } from './outbound.ts';
import type { NonceRecord, NonceStore } from './stores.ts';

export interface VerifyContext {
  audience: string;
  nonces: NonceStore;
  discovery: Discovery;
  /** Fallback brokers, for domains that name no provider (protocol-spec.md#fallback). */
  brokers: Brokers;
  associations: Associations;
  outbound: Outbound;
  now: () => number;
  clockSkewSeconds: number;
}

export interface VerifyInput {
  /** The browser binding cookie of the request; undefined when the browser sent none. */
  browserId: string | undefined;
  assertion: string;
}

export interface VerifiedAssertion {
  email: string;
  issuer: string;
  claims: AssertionClaims;
}

export async function verifyAssertion(
  ctx: VerifyContext,
  input: VerifyInput,
): Promise<VerifiedAssertion> {
  const decoded = decodeAssertion(input.assertion); // step 2: shape only, no crypto
  // Step 3. The steps await only the stores and the network, not helpers of their own: each
  // async layer is a promise and a turn of the microtask queue on every sign-in.
  checkNonce(ctx, await ctx.nonces.consume(decoded.claims.nonce), input.browserId);
  const config = await authoritativeProvider(ctx, decoded.claims); // step 4
  checkAssertionClaims(decoded.claims, {
    issuer: config.issuer,
    audience: ctx.audience,
    now: ctx.now(),
    clockSkewSeconds: ctx.clockSkewSeconds,
  }); // step 5
  // Step 6: HS256 against the site's own association cache (the handle is never forwarded).
  if (decoded.header.alg === ASSOCIATION_ALG) {
    const key = await ctx.associations.keyFor(config.issuer, decoded.header.kid);
    await verifyAssociationSignature(input.assertion, key.secret);
  } else {
    await checkDirectly(ctx, config, input.assertion, decoded);
  }
  return { email: decoded.claims.sub, issuer: config.issuer, claims: decoded.claims };
}

/** The consumed nonce record exists, is unexpired and belongs to this browser. */
function checkNonce(
  ctx: VerifyContext,
  record: NonceRecord | null,
  browserId: string | undefined,
): void {
  if (!record || record.expiresAt <= ctx.now() || browserId === undefined) {
    throw new BssoError('invalid_nonce', 'The sign-in request is unknown or was already used.');
  }
  if (record.browserId !== browserId) {
    throw new BssoError('invalid_nonce', 'The sign-in was started in another browser.');
  }
}

/** Only the provider the address's domain names may speak for it. */
async function authoritativeProvider(
  ctx: VerifyContext,
  claims: AssertionClaims,
): Promise<ProviderConfig> {
  const email = parseEmail(claims.sub);
  if (email.address !== claims.sub) {
    throw new BssoError('invalid_assertion', 'The assertion subject is not normalized.');
  }
  let config: ProviderConfig;
  try {
    config = await ctx.discovery.forDomain(email.domain, email.address);
  } catch (err) {
    // Only the domain's own answer that it names no provider lets a listed broker speak for
    // it; a failure never does (protocol-spec.md#fallback, threat 46).
    if (err instanceof BssoError && err.code === 'no_provider' && ctx.brokers.issuers.length) {
      return ctx.brokers.configFor(claims.iss);
    }
    throw err;
  }
  if (config.issuer !== claims.iss) {
    throw new BssoError(
      'invalid_issuer',
      'The assertion issuer is not the provider of its domain.',
    );
  }
  return config;
}

/** EdDSA: the provider checks its own signature; a purge of the handle it invalidated. */
async function checkDirectly(
  ctx: VerifyContext,
  config: ProviderConfig,
  token: string,
  { claims }: DecodedAssertion,
): Promise<void> {
  await verifyDirectly(ctx.outbound, config, token, claims);
  if (claims.invalidate_handle !== undefined) {
    await ctx.associations.purge(config.issuer, claims.invalidate_handle);
  }
}
