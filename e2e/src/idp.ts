// The company identity provider of the e2e topology, at https://idp.test (served by the
// topology): the shared test identity provider with the BSSO provider's upstream callback.
import { createTestIdp as createIdp, type TestIdp } from '@bsso/protocol/testing';
import { IDP_NAME, PROVIDER_NAME } from './topology.ts';

export type { TestIdp };

export function createTestIdp(
  users: Record<string, { email: string; email_verified: boolean }>,
  /** Where the client may be sent back; default the provider's upstream callback. */
  redirectUris: readonly string[] = [`https://${PROVIDER_NAME}/signin/upstream/callback`],
): TestIdp {
  return createIdp({ issuer: `https://${IDP_NAME}`, users, redirectUris });
}
