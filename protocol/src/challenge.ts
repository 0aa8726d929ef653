// The challenge: nonce and association handle from the site (protocol-spec.md#challenge),
// and the page challenge a site may put into its page instead (protocol-spec.md#page-challenge).
import * as z from 'zod';
import {
  CHALLENGE_QUERY,
  limits,
  PAGE_HANDLE_SET_ATTR,
  PAGE_NONCE_ATTR,
  PAGE_NONCE_EXPIRES_ATTR,
} from './constants.ts';
import { BssoError } from './errors.ts';
import { randomToken, TOKEN_PATTERN } from './random.ts';

export interface ChallengeAnswer {
  nonce: string;
  /** The site's association handle with the email domain's provider, when it has one. */
  handle?: string;
  expires_in: number;
  /** Seconds the site keeps accepting assertions signed under `handle` (page challenge). */
  handle_expires_in?: number;
  /** The site's handle set: `handle` may be reused with page challenges naming the same set. */
  handle_set?: string;
}

/** A challenge the site put into its page, read from the endpoint link's attributes. */
export interface PageChallenge {
  nonce: string;
  /** Seconds the nonce stays valid, counted from when the page was loaded. */
  expiresIn: number;
  /** The site's handle set (protocol-spec.md#page-challenge). */
  handleSet: string;
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
  handle_expires_in: z.number().int().positive().optional(),
  handle_set: z.string().regex(TOKEN_PATTERN).optional(),
});

export function parseChallengeAnswer(json: unknown): ChallengeAnswer {
  const parsed = challengeSchema.safeParse(json);
  if (!parsed.success) throw new BssoError('invalid_request', 'The challenge is malformed.');
  const { nonce, handle, expires_in, handle_expires_in, handle_set } = parsed.data;
  if (handle === undefined) return { nonce, expires_in };
  // The two members that let a handle be reused only make sense together, and with a handle.
  if (handle_expires_in === undefined || handle_set === undefined) {
    return { nonce, handle, expires_in };
  }
  return { nonce, handle, expires_in, handle_expires_in, handle_set };
}

const DECIMAL = /^[1-9][0-9]{0,9}$/;

/**
 * Reads a page challenge from the endpoint link's attribute values (null when absent), or
 * undefined when there is none or any part is malformed: the extension then asks for a
 * challenge as without one.
 */
export function parsePageChallenge(attributes: {
  nonce: string | null;
  expiresIn: string | null;
  handleSet: string | null;
}): PageChallenge | undefined {
  const { nonce, expiresIn, handleSet } = attributes;
  if (nonce === null || !TOKEN_PATTERN.test(nonce)) return undefined;
  if (handleSet === null || !TOKEN_PATTERN.test(handleSet)) return undefined;
  if (expiresIn === null || !DECIMAL.test(expiresIn)) return undefined;
  const seconds = Number(expiresIn);
  if (seconds > limits.maxPageNonceLifetimeSeconds) return undefined;
  return { nonce, expiresIn: seconds, handleSet };
}

/** The endpoint link's attributes for a page challenge, as a site writes them. */
export function pageChallengeAttributes(challenge: PageChallenge): Record<string, string> {
  return {
    [PAGE_NONCE_ATTR]: challenge.nonce,
    [PAGE_NONCE_EXPIRES_ATTR]: String(challenge.expiresIn),
    [PAGE_HANDLE_SET_ATTR]: challenge.handleSet,
  };
}
