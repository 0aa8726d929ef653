// Associations: a shared key between a site and a provider (protocol-spec.md#association).
import { base64url } from 'jose';
import * as z from 'zod';
import { ASSOCIATION_ALG, limits } from './constants.ts';
import { BssoError } from './errors.ts';
import { randomBytes, randomToken, TOKEN_PATTERN } from './random.ts';
import { parseSecureUrl, type UrlPolicy } from './urls.ts';

export interface AssociationRequest {
  /** The site's origin the association is bound to. */
  site: string;
}

const requestSchema = z.strictObject({ site: z.string().max(2048) });

/** Validates an association request: unknown members refused, the site a secure origin. */
export function parseAssociationRequest(json: unknown, policy: UrlPolicy = {}): AssociationRequest {
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    throw new BssoError('invalid_request', 'The association request is malformed.');
  }
  const url = parseSecureUrl(parsed.data.site, policy);
  if (url.href !== `${url.origin}/` || parsed.data.site !== url.origin) {
    throw new BssoError('invalid_request', 'The site must be a bare origin.');
  }
  return { site: url.origin };
}

export interface AssociationAnswer {
  handle: string;
  /** The 256-bit key, base64url. */
  key: string;
  alg: typeof ASSOCIATION_ALG;
  /** Seconds until the association expires. */
  expires_in: number;
}

/** A new association's handle and secret, made by the provider. */
export function createAssociationSecret(): { handle: string; secret: Uint8Array } {
  return { handle: randomToken(limits.idBytes), secret: randomBytes(limits.associationKeyBytes) };
}

export function encodeAssociationAnswer(
  handle: string,
  secret: Uint8Array,
  expiresIn: number,
): AssociationAnswer {
  return { handle, key: base64url.encode(secret), alg: ASSOCIATION_ALG, expires_in: expiresIn };
}

const answerSchema = z.looseObject({
  handle: z.string().regex(TOKEN_PATTERN),
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  alg: z.literal(ASSOCIATION_ALG),
  expires_in: z
    .number()
    .int()
    .min(limits.minAssociationLifetimeSeconds)
    .max(limits.maxAssociationLifetimeSeconds),
});

/** Reads a provider's association answer as a site; the key must be exactly 256 bits. */
export function parseAssociationAnswer(json: unknown): {
  handle: string;
  secret: Uint8Array;
  expiresIn: number;
} {
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success)
    throw new BssoError('provider_error', 'The association answer is malformed.');
  const secret = base64url.decode(parsed.data.key);
  if (secret.byteLength !== limits.associationKeyBytes) {
    throw new BssoError('provider_error', 'The association key is not 256 bits.');
  }
  return { handle: parsed.data.handle, secret, expiresIn: parsed.data.expires_in };
}
