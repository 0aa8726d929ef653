// One round trip to an upstream OpenID provider (authorization code flow with PKCE, state
// and nonce, through openid-client): start() gives the URL to send the browser to and the
// transaction the caller keeps bound to that browser; finish() checks the callback against
// it, exchanges the code, verifies the ID token (and asks UserInfo for the email when the
// ID token has none) and returns the verified email. Knows
// nothing of sign-in pages or sessions, so any feature that needs "who is this, says the
// company's IdP" (the account back-end, a broker's bridging) can use it as is.
import { parseEmail } from '@bsso/protocol';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';

export interface UpstreamOidcOptions {
  /** The upstream issuer, exactly as its discovery document names it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the upstream sends the browser back (registered at the upstream). */
  redirectUri: string;
  /** PEM of the CA(s) to trust for the issuer; default the system's. */
  ca?: string | undefined;
  /** Time budget of each call to the issuer, in ms. */
  timeoutMs: number;
}

/** What the caller keeps bound to the browser between start() and finish(). */
export interface UpstreamTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface UpstreamIdentity {
  /** The upstream's subject identifier. */
  subject: string;
  /** The normalized address, which the upstream says it verified (email_verified true). */
  email: string;
}

export type UpstreamErrorCode =
  /** The upstream did not answer (in time): try again later. */
  | 'upstream_unavailable'
  /** The answer does not check out or names no verified address: sign in no one. */
  | 'upstream_rejected';

export class UpstreamOidcError extends Error {
  readonly code: UpstreamErrorCode;
  constructor(code: UpstreamErrorCode, message: string) {
    super(message);
    this.name = 'UpstreamOidcError';
    this.code = code;
  }
}

export interface UpstreamOidc {
  start(options?: { loginHint?: string }): Promise<{ url: URL; transaction: UpstreamTransaction }>;
  /** `callbackUrl` is the full URL the browser came back to (with code and state). */
  finish(callbackUrl: URL, transaction: UpstreamTransaction): Promise<UpstreamIdentity>;
  close(): Promise<void>;
}

/** Network failures and timeouts are the upstream being away; the rest is a refusal. */
function classify(err: unknown): UpstreamOidcError {
  if (err instanceof UpstreamOidcError) return err;
  const name = err instanceof Error ? err.name : '';
  const cause: unknown = err instanceof Error ? err.cause : undefined;
  const status =
    typeof cause === 'object' && cause !== null
      ? (cause as { status?: unknown }).status
      : undefined;
  const away =
    name === 'AbortError' ||
    name === 'TimeoutError' ||
    (err instanceof TypeError && cause !== undefined) ||
    (typeof status === 'number' && status >= 500);
  return away
    ? new UpstreamOidcError('upstream_unavailable', 'The identity provider did not answer.')
    : new UpstreamOidcError('upstream_rejected', 'The identity provider refused the sign-in.');
}

export function createUpstreamOidc(options: UpstreamOidcOptions): UpstreamOidc {
  const agent = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  const timeoutSeconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const customFetch: oidc.CustomFetch = (url, init) =>
    undiciFetch(url, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      ...(agent ? { dispatcher: agent } : {}),
    }) as unknown as Promise<Response>;
  let configuration: Promise<oidc.Configuration> | undefined;
  const config = () => {
    configuration ??= oidc
      .discovery(
        new URL(options.issuer),
        options.clientId,
        undefined,
        oidc.ClientSecretBasic(options.clientSecret),
        { [oidc.customFetch]: customFetch, timeout: timeoutSeconds },
      )
      .catch((err: unknown) => {
        // Ask again next time: the upstream may be back.
        configuration = undefined;
        throw err;
      });
    return configuration;
  };
  return {
    async start(startOptions = {}) {
      try {
        const transaction: UpstreamTransaction = {
          state: oidc.randomState(),
          nonce: oidc.randomNonce(),
          codeVerifier: oidc.randomPKCECodeVerifier(),
        };
        const params: Record<string, string> = {
          redirect_uri: options.redirectUri,
          scope: 'openid email',
          response_type: 'code',
          code_challenge: await oidc.calculatePKCECodeChallenge(transaction.codeVerifier),
          code_challenge_method: 'S256',
          state: transaction.state,
          nonce: transaction.nonce,
        };
        if (startOptions.loginHint) params.login_hint = startOptions.loginHint;
        const url = oidc.buildAuthorizationUrl(await config(), params);
        // The sign-in page lets its form lead to the issuer's origin only (form-action).
        if (url.origin !== new URL(options.issuer).origin) {
          throw new UpstreamOidcError(
            'upstream_unavailable',
            'The authorization endpoint is not on the issuer origin.',
          );
        }
        return { url, transaction };
      } catch (err) {
        throw classify(err);
      }
    },
    async finish(callbackUrl, transaction) {
      let claims: { sub: string; email?: unknown; email_verified?: unknown } | undefined;
      try {
        const c = await config();
        const tokens = await oidc.authorizationCodeGrant(c, callbackUrl, {
          pkceCodeVerifier: transaction.codeVerifier,
          expectedState: transaction.state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims();
        // Many providers put the email in the ID token; the others (OpenID Connect Core
        // 5.4: scope claims may go to UserInfo only) answer it at UserInfo, for the same sub.
        if (claims && claims.email === undefined) {
          claims = await oidc.fetchUserInfo(c, tokens.access_token, claims.sub);
        }
      } catch (err) {
        throw classify(err);
      }
      if (claims?.email_verified !== true || typeof claims.email !== 'string') {
        throw new UpstreamOidcError('upstream_rejected', 'No verified email from the upstream.');
      }
      try {
        return { subject: claims.sub, email: parseEmail(claims.email).address };
      } catch {
        throw new UpstreamOidcError('upstream_rejected', 'The ID token email is not valid.');
      }
    },
    async close() {
      await agent?.close();
    },
  };
}
