// What a site would use instead of BSSO, served in the same topology as the BSSO sign-in:
// an OpenID Connect provider (oidc-provider) with an authorization-code relying party
// (openid-client), and the floor: one fetch to a provider stub plus one form POST.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import Provider, { type OidcContext } from 'oidc-provider';
import * as oidc from 'openid-client';

export const OP_NAME = 'op.test';
export const RP_NAME = 'rp.test';
export const FLOOR_NAME = 'floor.test';
export const STUB_NAME = 'stub.test';

const CLIENT_ID = 'bench-rp';
const USER_ID = 'alice';

export interface OidcProviderServer {
  handler: RequestListener;
  clientSecret: string;
  /** Login interactions so far: a warm run must not add one. */
  interactions(): number;
}

/**
 * The OpenID provider at https://op.test. The user's first authorization signs them in
 * (an automatic login interaction); after that the session and a pre-granted consent
 * (loadExistingGrant) let every authorization redirect straight back.
 */
export function createOidcProvider(): OidcProviderServer {
  const clientSecret = randomBytes(32).toString('base64url');
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  let interactions = 0;
  const provider = new Provider(`https://${OP_NAME}`, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: [`https://${RP_NAME}/cb`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...jwk, kid: 'bench-rs256', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email'] },
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: `${id}@${OP_NAME}` }),
    }),
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    // Consent pre-granted: a first-party client whose grant is created on first use.
    loadExistingGrant: async (ctx: OidcContext) => {
      const { oidc: o } = ctx;
      const grantId = o.result?.consent?.grantId ?? o.session.grantIdFor(o.client.clientId);
      if (grantId) return o.provider.Grant.find(grantId);
      const grant = new o.provider.Grant({ clientId: o.client.clientId, accountId: USER_ID });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider:', err));
  const callback = provider.callback();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      interactions += 1;
      provider
        .interactionFinished(req, res, { login: { accountId: USER_ID } }, {})
        .catch((err: unknown) => {
          console.error('interaction:', err);
          res.statusCode = 500;
          res.end();
        });
      return;
    }
    callback(req, res);
  };
  return { handler, clientSecret, interactions: () => interactions };
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === name) return v;
  }
  return undefined;
}

export const RP_SESSION_COOKIE = 'rp_session';
export const FLOOR_SESSION_COOKIE = 'floor_session';

function signedInPage(res: Response, email: string | undefined, button: string): void {
  const state = email
    ? `<p id="signed-in-as">Signed in as <strong>${email}</strong></p>`
    : '<p id="signed-out">You are not signed in.</p>';
  res
    .set('Cache-Control', 'no-store')
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Baseline</title></head><body><h1>Baseline site</h1>${button}${state}</body></html>`,
    );
}

/**
 * The OpenID Connect relying party at https://rp.test: a button to /login, which redirects
 * to the provider with PKCE and state; /cb exchanges the code and starts a session.
 * A new instance knows nothing: discovery and the provider's keys are fetched on first use.
 */
export function createOidcRelyingParty(clientSecret: string): Express {
  const app = express();
  const redirectUri = `https://${RP_NAME}/cb`;
  const sessions = new Map<string, string>();
  const pending = new Map<string, { verifier: string; state: string }>();
  let config: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    config ??= oidc.discovery(
      new URL(`https://${OP_NAME}`),
      CLIENT_ID,
      undefined,
      oidc.ClientSecretBasic(clientSecret),
    );
    return config;
  };
  app.get('/', (req, res) => {
    const email = sessions.get(readCookie(req, RP_SESSION_COOKIE) ?? '');
    signedInPage(
      res,
      email,
      '<form method="get" action="/login"><button id="sign_in_button" type="submit">Sign in</button></form>',
    );
  });
  app.get('/login', async (_req, res, next) => {
    try {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(await configuration(), {
        redirect_uri: redirectUri,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      const tx = randomBytes(16).toString('base64url');
      pending.set(tx, { verifier, state });
      res.append('Set-Cookie', `rp_tx=${tx}; Path=/; Secure; HttpOnly; SameSite=Lax`);
      res.redirect(303, url.href);
    } catch (err) {
      next(err);
    }
  });
  app.get('/cb', async (req, res, next) => {
    try {
      const tx = readCookie(req, 'rp_tx') ?? '';
      const check = pending.get(tx);
      pending.delete(tx);
      if (!check) throw new Error('unknown transaction');
      const tokens = await oidc.authorizationCodeGrant(
        await configuration(),
        new URL(req.originalUrl, `https://${RP_NAME}`),
        { pkceCodeVerifier: check.verifier, expectedState: check.state },
      );
      // The ID token names the user by `sub` (email would need a userinfo call).
      const email = `${String(tokens.claims()?.sub)}@${OP_NAME}`;
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, email);
      res.append(
        'Set-Cookie',
        `${RP_SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Lax`,
      );
      res.redirect(303, '/');
    } catch (err) {
      next(err);
    }
  });
  return app;
}

/** The floor's provider stub at https://stub.test: answers a token, nothing else. */
export function createStub(): Express {
  const app = express();
  app.post('/token', (_req, res) => {
    res
      .set({
        'Access-Control-Allow-Origin': `https://${FLOOR_NAME}`,
        'Access-Control-Allow-Credentials': 'true',
        'Cache-Control': 'no-store',
      })
      .json({ token: randomBytes(32).toString('base64url') });
  });
  return app;
}

const FLOOR_SCRIPT = `
document.getElementById('sign_in_button').addEventListener('click', async () => {
  const r = await fetch('https://${STUB_NAME}/token', { method: 'POST', credentials: 'include' });
  const { token } = await r.json();
  const form = document.createElement('form');
  form.method = 'post';
  form.action = '/login';
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = 'token';
  input.value = token;
  form.append(input);
  document.body.append(form);
  form.submit();
});`;

/** The floor site at https://floor.test: the least any browser-mediated sign-in can do. */
export function createFloorSite(): Express {
  const app = express();
  const sessions = new Map<string, string>();
  app.get('/', (req, res) => {
    const email = sessions.get(readCookie(req, FLOOR_SESSION_COOKIE) ?? '');
    signedInPage(
      res,
      email,
      `<button id="sign_in_button" type="button">Sign in</button><script>${FLOOR_SCRIPT}</script>`,
    );
  });
  app.post('/login', express.urlencoded({ extended: false, limit: '8kb' }), (req, res) => {
    const token: unknown = req.body?.token;
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) {
      res.status(400).send('bad token');
      return;
    }
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, `alice@${STUB_NAME}`);
    res.append(
      'Set-Cookie',
      `${FLOOR_SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    );
    res.redirect(303, '/');
  });
  return app;
}
