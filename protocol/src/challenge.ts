// The challenge: nonce and association handle from the site (protocol-spec.md#challenge).
import * as z from 'zod';
import { CHALLENGE_QUERY, limits } from './constants.ts';
import { BssoError } from './errors.ts';
import { randomToken, TOKEN_PATTERN } from './random.ts';

export interface ChallengeAnswer {
  nonce: string;
  /** The site's association handle with the email domain's provider, when it has one. */
  handle?: string;
  expires_in: number;
}

export function createNonce(): string {
  return randomToken(limits.nonceBytes);
}

/** The URL the extension GETs for a challenge, given the site's endpoint. */
export function challengeUrl(endpoint: URL | string, domain: string): string {
  const url = new URL(endpoint);
  url.searchParams.set('bsso', CHALLENGE_QUERY);
  url.searchParams.set('domain', domain);
  return url.href;
}

const challengeSchema = z.looseObject({
  nonce: z.string().regex(TOKEN_PATTERN),
  handle: z.string().regex(TOKEN_PATTERN).optional(),
  expires_in: z.number().int().positive(),
});

export function parseChallengeAnswer(json: unknown): ChallengeAnswer {
  const parsed = challengeSchema.safeParse(json);
  if (!parsed.success) throw new BssoError('invalid_request', 'The challenge is malformed.');
  const { nonce, handle, expires_in } = parsed.data;
  return handle === undefined ? { nonce, expires_in } : { nonce, handle, expires_in };
}
