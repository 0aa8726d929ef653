// Direct verification: the site asks the provider (protocol-spec.md#direct-verification).
import * as z from 'zod';
import type { AssertionClaims } from './assertion.ts';
import { limits } from './constants.ts';
import { BssoError } from './errors.ts';

export interface VerificationRequest {
  assertion: string;
}

const requestSchema = z.strictObject({ assertion: z.string().max(limits.maxAssertionLength) });

export function parseVerificationRequest(json: unknown): VerificationRequest {
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    throw new BssoError('invalid_request', 'The verification request is malformed.');
  }
  return parsed.data;
}

export interface VerificationAnswer {
  valid: true;
  /** The claims the provider verified; the site compares them with its own reading. */
  claims: AssertionClaims;
}

const answerSchema = z.looseObject({
  valid: z.literal(true),
  claims: z.looseObject({
    iss: z.string(),
    sub: z.string(),
    aud: z.string(),
    nonce: z.string(),
    iat: z.number(),
    exp: z.number(),
    jti: z.string(),
  }),
});

/**
 * Reads a positive verification answer and requires it to confirm exactly the claims the
 * site read from the token, so a confused provider cannot vouch for another assertion.
 */
export function checkVerificationAnswer(json: unknown, expected: AssertionClaims): void {
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success)
    throw new BssoError('provider_error', 'The verification answer is malformed.');
  const got = parsed.data.claims;
  for (const name of ['iss', 'sub', 'aud', 'nonce', 'iat', 'exp', 'jti'] as const) {
    if (got[name] !== expected[name]) {
      throw new BssoError('provider_error', `The provider confirmed another ${name}.`);
    }
  }
}
