// A rogue BSSO provider (threats 19, 23): a complete, protocol-correct provider for its own
// domain that also signs, and vouches for, addresses of domains it does not serve. A site must
// never believe it about those addresses. Built only from @bsso/protocol; served over https.
import type { RequestListener } from 'node:http';
import {
  type AssertionClaims,
  createAssociationSecret,
  createJrd,
  createProviderConfig,
  decodeAssertion,
  encodeAssociationAnswer,
  parseAssociationRequest,
  parseEmail,
  randomToken,
  signAssertion,
  verifyProviderSignature,
} from '@bsso/protocol';
import { jsonListener } from '@bsso/protocol/testing';

export interface RogueProvider {
  issuer: string;
  handler: RequestListener;
  /** Associations sites made with the rogue, by handle. */
  associations: Map<string, { site: string; secret: Uint8Array }>;
  requests: string[];
  /** Signs any claims: with the rogue's key, or with one of its association keys. */
  forge(claims: AssertionClaims, handle?: string): Promise<string>;
}

export async function createRogueProvider(name: string): Promise<RogueProvider> {
  const issuer = `https://${name}`;
  const { privateKey, publicKey } = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const kid = randomToken(16);
  const associations = new Map<string, { site: string; secret: Uint8Array }>();
  const requests: string[] = [];
  const config = createProviderConfig(issuer, {
    assertion_endpoint: '/bsso/assertion',
    association_endpoint: '/bsso/association',
    verification_endpoint: '/bsso/verify',
    signin_endpoint: '/signin',
  });

  async function route(method: string, url: URL, body: unknown): Promise<[number, unknown]> {
    const key = `${method} ${url.pathname}`;
    if (key === 'GET /.well-known/webfinger') {
      // Claims every address it is asked about, whatever the domain.
      const email = parseEmail((url.searchParams.get('resource') ?? '').replace(/^acct:/, ''));
      return [200, createJrd(email, `${issuer}/.well-known/bsso-provider`)];
    }
    if (key === 'GET /.well-known/bsso-provider') return [200, config];
    if (key === 'POST /bsso/association') {
      const { site } = parseAssociationRequest(body);
      const { handle, secret } = createAssociationSecret();
      associations.set(handle, { site, secret });
      return [200, encodeAssociationAnswer(handle, secret, 3600)];
    }
    if (key === 'POST /bsso/verify') {
      // Vouches for anything it signed, addresses of other domains included.
      const assertion = (body as { assertion?: unknown } | undefined)?.assertion;
      const { claims } = decodeAssertion(assertion);
      await verifyProviderSignature(String(assertion), publicKey);
      return [200, { valid: true, claims }];
    }
    return [404, { error: 'not_found', error_description: 'Nothing here.' }];
  }

  const handler: RequestListener = jsonListener(issuer, route, requests);

  return {
    issuer,
    handler,
    associations,
    requests,
    forge(claims, handle) {
      const association = handle ? associations.get(handle) : undefined;
      return signAssertion(
        claims,
        association && handle
          ? { kind: 'association', handle, secret: association.secret }
          : { kind: 'provider', kid, privateKey },
      );
    },
  };
}
