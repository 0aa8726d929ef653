// The extension reads the provider's assertion before delivering it
// (protocol-spec.md#extension-processing, step 6; threat 44): decoded only (the site verifies
// the signature), it must name the chosen address, this site's endpoint, this challenge's
// nonce and the discovered issuer. A provider that answers with anything else gets nothing
// delivered.
import { type AssertionClaims, decodeAssertion } from '@bsso/protocol';
import { type Failure, failure } from '../shared/messages.ts';

/** What the extension asked the provider for. */
interface IssuedAssertionExpectations {
  /** The chosen address (`sub`). */
  email: string;
  /** The site's endpoint URL (`aud`). */
  audience: string;
  /** The challenge's nonce (`nonce`). */
  nonce: string;
  /** The issuer discovery named for the address's domain (`iss`). */
  issuer: string;
}

/** undefined when the assertion is the one asked for; otherwise why it is not delivered. */
export function checkIssuedAssertion(
  assertion: string,
  expect: IssuedAssertionExpectations,
): Failure | undefined {
  let claims: AssertionClaims;
  try {
    claims = decodeAssertion(assertion).claims;
  } catch {
    return failure('provider_error', 'The provider answered with a malformed assertion.');
  }
  const mismatched = [
    claims.sub !== expect.email && 'sub',
    claims.aud !== expect.audience && 'aud',
    claims.nonce !== expect.nonce && 'nonce',
    claims.iss !== expect.issuer && 'iss',
  ].filter((name): name is string => name !== false);
  if (mismatched.length === 0) return undefined;
  return failure('assertion_mismatch', `The assertion's ${mismatched.join(', ')} differ.`);
}
