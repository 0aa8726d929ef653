// Direct verification (protocol-spec.md#direct-verification): the provider checks its own
// signature and that the assertion is used once; the site checks the answer names the same claims.
import {
  type AssertionClaims,
  BssoError,
  checkVerificationAnswer,
  type ErrorCode,
  type ProviderConfig,
} from '@bsso/protocol';
import type { Outbound } from './outbound.ts';

// Verdicts a provider gives about the assertion itself; anything else is a provider fault.
const ASSERTION_VERDICTS: readonly ErrorCode[] = [
  'invalid_assertion',
  'invalid_signature',
  'assertion_expired',
  'assertion_replayed',
  'invalid_audience',
  'clock_skew',
];

export async function verifyDirectly(
  outbound: Outbound,
  config: ProviderConfig,
  token: string,
  claims: AssertionClaims,
): Promise<void> {
  const answer = await outbound.postJson(config.verification_endpoint, { assertion: token });
  if (answer.status === 200) {
    checkVerificationAnswer(answer.body, claims);
    return;
  }
  const code = (answer.body as { error?: unknown } | null)?.error;
  if (answer.status >= 400 && answer.status < 500) {
    const verdict = ASSERTION_VERDICTS.find((c) => c === code);
    if (verdict) throw new BssoError(verdict, 'The provider did not confirm the assertion.');
  }
  throw new BssoError('provider_error', `The verification request answered ${answer.status}.`);
}
