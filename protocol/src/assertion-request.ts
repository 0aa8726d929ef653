// The assertion request from the extension to the provider and its answers
// (protocol-spec.md#assertion-request).
import * as z from 'zod';
import { limits } from './constants.ts';
import { parseEmail } from './email.ts';
import { BssoError, type ErrorObject } from './errors.ts';
import { TOKEN_PATTERN } from './random.ts';
import { parseSecureUrl, requireSameOrigin, type UrlPolicy } from './urls.ts';

export interface AssertionRequest {
  email: string;
  /** The site's endpoint URL: the assertion's audience. */
  audience: string;
  nonce: string;
  handle?: string;
}

const requestSchema = z.strictObject({
  email: z.string().max(limits.maxEmailLength),
  audience: z.string().max(2048),
  nonce: z.string().regex(TOKEN_PATTERN),
  handle: z.string().regex(TOKEN_PATTERN).optional(),
});

/** Validates an assertion request body; the provider runs this first. */
export function parseAssertionRequest(json: unknown, policy: UrlPolicy = {}): AssertionRequest {
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success)
    throw new BssoError('invalid_request', 'The assertion request is malformed.');
  const { email, audience, nonce, handle } = parsed.data;
  const normalized = parseEmail(email).address;
  const aud = parseSecureUrl(audience, policy).href;
  return handle === undefined
    ? { email: normalized, audience: aud, nonce }
    : { email: normalized, audience: aud, nonce, handle };
}

export interface LoginRequiredAnswer extends ErrorObject {
  error: 'login_required';
  /** Where the user signs in, on the provider's own origin. */
  signin_url: string;
}

export type AssertionAnswer =
  | { kind: 'assertion'; assertion: string }
  | { kind: 'login_required'; signinUrl: string }
  | { kind: 'wrong_account' };

const assertionSchema = z.looseObject({ assertion: z.string().max(limits.maxAssertionLength) });
const loginRequiredSchema = z.looseObject({
  error: z.literal('login_required'),
  signin_url: z.string(),
});
const wrongAccountSchema = z.looseObject({ error: z.literal('wrong_account') });

/**
 * Reads the provider's answer. A sign-in URL is accepted only on the provider's origin, so a
 * compromised answer cannot send the user's popup elsewhere.
 */
export function parseAssertionAnswer(
  status: number,
  json: unknown,
  issuer: string,
  policy: UrlPolicy = {},
): AssertionAnswer {
  if (status === 200) {
    const body = assertionSchema.safeParse(json);
    if (body.success) return { kind: 'assertion', assertion: body.data.assertion };
  } else if (status === 401) {
    const body = loginRequiredSchema.safeParse(json);
    if (body.success) {
      const url = parseSecureUrl(body.data.signin_url, policy);
      requireSameOrigin(url, issuer);
      return { kind: 'login_required', signinUrl: url.href };
    }
  } else if (status === 403 && wrongAccountSchema.safeParse(json).success) {
    return { kind: 'wrong_account' };
  }
  throw new BssoError('provider_error', `The provider answered ${status} unexpectedly.`);
}
