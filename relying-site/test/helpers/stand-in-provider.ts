// A tiny but real BSSO provider for mail.test, built from @bsso/protocol, served over https
// on 127.0.0.1:<port 0>. It counts every request so tests can assert "no S2S call".
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  type AssertionClaims,
  BssoError,
  createAssertion,
  createAssociationSecret,
  createJrd,
  createProviderConfig,
  decodeAssertion,
  encodeAssociationAnswer,
  parseAssociationRequest,
  parseEmail,
  parseVerificationRequest,
  randomToken,
  signAssertion,
  verifyProviderSignature,
} from '@bsso/protocol';
import { jsonListener, type TestPki } from '@bsso/protocol/testing';
import { type CryptoKey, generateKeyPair } from 'jose';

export const PROVIDER_ORIGIN = 'https://mail.test';

export interface StoredAssociation {
  secret: Uint8Array;
  site: string;
  expiresAt: number;
}

export interface StandInBehaviour {
  /** Seconds the provider gives each association. */
  associationLifetime: number;
  /** What the verification endpoint does. */
  verify: 'ok' | 'error500' | 'hang';
  /** Whether the configuration names a web endpoint (protocol-spec.md#web-flow). */
  webEndpoint: boolean;
}

export interface StandIn {
  port: number;
  /** Every request received, as 'METHOD /path'. */
  requests: string[];
  associations: Map<string, StoredAssociation>;
  behaviour: StandInBehaviour;
  kid: string;
  privateKey: CryptoKey;
  /** An assertion as the real provider would make it: association key if the handle is live. */
  assertionFor(input: AssertionInput): Promise<string>;
  /** Signs arbitrary claims with the provider key or a given association secret. */
  sign(claims: AssertionClaims, key?: { handle: string; secret: Uint8Array }): Promise<string>;
  count(path: string): number;
  close(): Promise<void>;
}

export interface AssertionInput {
  email: string;
  audience: string;
  nonce: string;
  handle?: string;
  now?: number;
  issuer?: string;
  lifetimeSeconds?: number;
}

export async function startStandIn(
  pki: TestPki,
  clock: () => number = Date.now,
  /** Another origin: the same provider plays a fallback broker (protocol-spec.md#fallback). */
  origin = PROVIDER_ORIGIN,
): Promise<StandIn> {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519');
  const kid = randomToken(16);
  const requests: string[] = [];
  const associations = new Map<string, StoredAssociation>();
  const usedJti = new Set<string>();
  const behaviour: StandInBehaviour = {
    associationLifetime: 3600,
    verify: 'ok',
    webEndpoint: true,
  };
  const config = createProviderConfig(origin, {
    assertion_endpoint: '/bsso/assertion',
    association_endpoint: '/bsso/associate',
    verification_endpoint: '/bsso/verify',
    signin_endpoint: '/signin',
    web_endpoint: '/bsso/web',
  });

  async function route(method: string, url: URL, body: unknown): Promise<[number, unknown]> {
    const key = `${method} ${url.pathname}`;
    if (key === 'GET /.well-known/webfinger') {
      const resource = url.searchParams.get('resource') ?? '';
      const email = parseEmail(resource.replace(/^acct:/, ''));
      if (email.domain !== 'mail.test') throw new BssoError('unknown_domain');
      return [200, createJrd(email, `${origin}/.well-known/bsso-provider`)];
    }
    if (key === 'GET /.well-known/bsso-provider') {
      if (behaviour.webEndpoint) return [200, config];
      const { web_endpoint: _web, ...without } = config;
      return [200, without];
    }
    if (key === 'POST /bsso/associate') {
      const { site } = parseAssociationRequest(body);
      const { handle, secret } = createAssociationSecret();
      const expiresAt = clock() + behaviour.associationLifetime * 1000;
      associations.set(handle, { secret, site, expiresAt });
      return [200, encodeAssociationAnswer(handle, secret, behaviour.associationLifetime)];
    }
    if (key === 'POST /bsso/verify') {
      if (behaviour.verify === 'error500') return [500, { error: 'server_error' }];
      if (behaviour.verify === 'hang') return new Promise(() => {});
      const { assertion } = parseVerificationRequest(body);
      const { header, claims } = decodeAssertion(assertion);
      if (header.alg !== 'EdDSA' || header.kid !== kid) {
        throw new BssoError('invalid_assertion', 'Only provider-key assertions verify here.');
      }
      await verifyProviderSignature(assertion, publicKey);
      if (claims.exp * 1000 <= clock()) throw new BssoError('assertion_expired');
      if (usedJti.has(claims.jti)) throw new BssoError('assertion_replayed');
      usedJti.add(claims.jti);
      return [200, { valid: true, claims }];
    }
    throw new BssoError('not_found');
  }

  const server: Server = createServer(
    { key: pki.keyPem, cert: pki.certPem },
    jsonListener(origin, route, requests),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    requests,
    associations,
    behaviour,
    kid,
    privateKey,
    count: (path) => requests.filter((r) => r.endsWith(` ${path}`)).length,
    async assertionFor(input) {
      const live = input.handle ? associations.get(input.handle) : undefined;
      const usable =
        live && live.expiresAt > clock() && live.site === new URL(input.audience).origin;
      return createAssertion({
        issuer: input.issuer ?? origin,
        email: input.email,
        audience: input.audience,
        nonce: input.nonce,
        now: input.now ?? clock(),
        ...(input.lifetimeSeconds ? { lifetimeSeconds: input.lifetimeSeconds } : {}),
        key:
          usable && input.handle
            ? { kind: 'association', handle: input.handle, secret: live.secret }
            : { kind: 'provider', kid, privateKey },
        ...(input.handle && !usable ? { invalidateHandle: input.handle } : {}),
      });
    },
    sign(claims, key) {
      return signAssertion(
        claims,
        key ? { kind: 'association', ...key } : { kind: 'provider', kid, privateKey },
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
