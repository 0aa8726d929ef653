// A company's own identity provider for the upstream OpenID account back-end: a real
// oidc-provider at https://idp.test (served by the topology), one confidential client (the
// BSSO provider), and a login interaction that signs in whoever the test names next.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import Provider, { type OidcContext } from 'oidc-provider';
import { IDP_NAME, PROVIDER_NAME } from './topology.ts';

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  handler: RequestListener;
  /** Who the next login interaction signs in. */
  nextUser: string;
}

export function createTestIdp(
  users: Record<string, { email: string; email_verified: boolean }>,
  /** Where the client may be sent back; default the provider's upstream callback. */
  redirectUris = [`https://${PROVIDER_NAME}/signin/upstream/callback`],
) {
  const issuer = `https://${IDP_NAME}`;
  const clientId = 'bsso-provider';
  const clientSecret = randomBytes(32).toString('base64url');
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...jwk, kid: 'idp', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, ...users[id] }),
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
    issuer,
    clientId,
    clientSecret,
    nextUser: '',
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
