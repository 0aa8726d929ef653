// Sign-in through the company's own OpenID provider (the oidc account back-end;
// protocol-spec.md#sign-in-popup): the sign-in page shows a button that posts here (CSRF
// token, per-client throttle), the round trip's state, nonce and PKCE verifier stay bound to
// this browser in a short-lived __Host- cookie, and the callback starts a session only for
// a verified email (email_verified true) in a domain this provider serves. Every refusal
// shows the same page; an upstream that does not answer shows "try again later" (503).
import { POPUP_DONE_PARAM, POPUP_DONE_VALUE, POPUP_PARAM, POPUP_PARAM_VALUE } from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { type Request, type Response, Router } from 'express';
import type { OidcBackend } from '../backends/index.ts';
import type { UpstreamTransaction } from '../backends/upstream-oidc.ts';
import type { ProviderContext } from '../context.ts';
import { clearHostCookie, readCookie, setHostCookie } from '../http/cookies.ts';
import { csrfValid } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import { paths } from '../paths.ts';
import { field, formBody } from './forms.ts';
import {
  CONTINUE_PARAM,
  FORM_EXPIRED,
  renderSignin,
  SIGNIN_THROTTLED,
  SIGNIN_UNAVAILABLE,
} from './signin-page.ts';
import { webContinuePath } from './web-signin.ts';

/** The one message for every refused upstream sign-in. */
export const UPSTREAM_FAILED = 'The sign-in did not succeed. Please try again.';

export const UPSTREAM_COOKIE = '__Host-bsso_upstream';
/** How long a round trip may take, start to callback. */
const TRANSACTION_SECONDS = 600;

interface Pending extends UpstreamTransaction {
  popup: boolean;
  /** The provider's own web endpoint to go on to (the web flow), checked again at the end. */
  continue?: string;
  /** Expiry, ms since the epoch. */
  exp: number;
}

function encode(pending: Pending): string {
  return Buffer.from(JSON.stringify(pending)).toString('base64url');
}

function decode(value: string | undefined, now: number): Pending | undefined {
  // A web-flow continue path makes the value longer; a cookie holds about 4 KB.
  if (!value || value.length > 3500) return undefined;
  try {
    const p = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Pending>;
    const strings = [p.state, p.nonce, p.codeVerifier].every(
      (s) => typeof s === 'string' && s.length >= 22 && s.length <= 128,
    );
    if (!strings || typeof p.exp !== 'number' || p.exp <= now) return undefined;
    return p as Pending;
  } catch {
    return undefined;
  }
}

export function upstreamSigninRouter(ctx: ProviderContext): Router {
  const router = Router();
  const { backend } = ctx;
  if (backend.kind !== 'oidc') return router;
  return upstreamRoutes(router, ctx, backend);
}

function upstreamRoutes(router: Router, ctx: ProviderContext, backend: OidcBackend): Router {
  const { config, limiters } = ctx;
  const page = (req: Request, res: Response, status: number, popup: boolean, error?: string) =>
    renderSignin(req, res, status, {
      email: '',
      popup,
      signupEnabled: false,
      upstream: { label: backend.label, origin: backend.origin },
      ...(error ? { error } : {}),
    });

  router.post(paths.signinUpstream, htmlSecurityHeaders, formBody(), async (req, res) => {
    const popup = field(req, POPUP_PARAM) === POPUP_PARAM_VALUE;
    const next = webContinuePath(field(req, CONTINUE_PARAM));
    if (!csrfValid(req)) {
      page(req, res, 403, popup, FORM_EXPIRED);
      return;
    }
    const now = config.now();
    if (!(await limiters.signinClient.allowed(clientKey(req.ip), now))) {
      config.logger.warn('signin_throttled', { slowedDown: false });
      page(req, res, 429, popup, SIGNIN_THROTTLED);
      return;
    }
    const hint = (field(req, 'email') ?? '').trim();
    try {
      const { url, transaction } = await backend.upstream.start(
        hint !== '' && hint.length <= 254 ? { loginHint: hint } : {},
      );
      const pending: Pending = {
        ...transaction,
        popup,
        exp: now + TRANSACTION_SECONDS * 1000,
        ...(next === undefined ? {} : { continue: next }),
      };
      setHostCookie(res, UPSTREAM_COOKIE, encode(pending), {
        sameSite: 'Lax',
        maxAge: TRANSACTION_SECONDS,
      });
      res.redirect(303, url.href);
    } catch {
      config.logger.error('signin_backend_unavailable', { backend: 'oidc', reason: 'start' });
      page(req, res, 503, popup, SIGNIN_UNAVAILABLE);
    }
  });

  router.get(paths.signinUpstreamCallback, htmlSecurityHeaders, async (req, res) => {
    const now = config.now();
    const ipKey = clientKey(req.ip);
    // One round trip per transaction: the cookie goes whatever happens next.
    const pending = decode(readCookie(req, UPSTREAM_COOKIE), now);
    clearHostCookie(res, UPSTREAM_COOKIE);
    const popup = pending?.popup ?? false;
    const refuse = async (reason: string) => {
      await limiters.signinClient.fail(ipKey, now);
      config.logger.info('signin_failed', { backend: 'oidc', reason });
      page(req, res, 401, popup, UPSTREAM_FAILED);
    };
    if (!(await limiters.signinClient.allowed(ipKey, now))) {
      page(req, res, 429, popup, SIGNIN_THROTTLED);
      return;
    }
    if (!pending) {
      await refuse('no_transaction');
      return;
    }
    let email: string;
    try {
      const identity = await backend.upstream.finish(
        new URL(req.originalUrl, config.issuer),
        pending,
      );
      email = identity.email;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'upstream_unavailable') {
        config.logger.error('signin_backend_unavailable', { backend: 'oidc', reason: 'finish' });
        page(req, res, 503, popup, SIGNIN_UNAVAILABLE);
        return;
      }
      await refuse('rejected');
      return;
    }
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!config.domains.has(domain)) {
      await refuse('domain_not_served');
      return;
    }
    await ctx.sessions.start(req, res, email);
    config.logger.info('signin', { backend: 'oidc' });
    res.redirect(
      303,
      popup
        ? `${paths.signinDone}?${POPUP_DONE_PARAM}=${POPUP_DONE_VALUE}`
        : (webContinuePath(pending.continue) ?? paths.account),
    );
  });
  return router;
}
