// A company's own identity provider for tests: a real oidc-provider with one confidential
// client and a login interaction that signs in whoever the test names next (`nextUser`). The
// caller serves `handler` (at `issuer`) over https. Used by the provider's upstream OpenID
// back-end tests, the broker's bridging tests and the e2e topology.
/// <reference path="./types/oidc-provider.d.ts" />
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import Provider, { type OidcContext } from 'oidc-provider';

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  handler: RequestListener;
  /** Who the next login interaction signs in. */
  nextUser: string;
}

export interface TestIdpOptions {
  /** The identity provider's issuer, e.g. 'https://idp.test' or 'https://localhost:<port>'. */
  issuer: string;
  /** Accounts by id: the claims their ID tokens carry. */
  users: Record<string, { email: string; email_verified: boolean }>;
  /** Where the client may be sent back. */
  redirectUris: readonly string[];
  /** Default 'bsso-provider'. */
  clientId?: string;
  /** Default: random. */
  clientSecret?: string;
  /** Who the first login signs in; default ''. */
  nextUser?: string;
}

export function createTestIdp(options: TestIdpOptions): TestIdp {
  const clientId = options.clientId ?? 'bsso-provider';
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('base64url');
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  const oidc = new Provider(options.issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [...options.redirectUris],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...jwk, kid: 'idp', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, ...options.users[id] }),
    }),
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    loadExistingGrant: async (ctx: OidcContext) => {
      const { oidc: o } = ctx;
      const grantId = o.result?.consent?.grantId ?? o.session.grantIdFor(o.client.clientId);
      if (grantId) return o.provider.Grant.find(grantId);
      const grant = new o.provider.Grant({
        clientId: o.client.clientId,
        accountId: o.session.accountId,
      });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
  });
  const callback = oidc.callback();
  const idp: TestIdp = {
    issuer: options.issuer,
    clientId,
    clientSecret,
    nextUser: options.nextUser ?? '',
    handler: (req, res) => {
      if (req.url?.startsWith('/interaction/')) {
        oidc
          .interactionFinished(req, res, { login: { accountId: idp.nextUser } }, {})
          .catch(() => res.writeHead(500).end());
        return;
      }
      callback(req, res);
    },
  };
  return idp;
}
