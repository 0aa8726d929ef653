// Sign-in pages (protocol-spec.md#sign-in-popup; threat 16): GET/POST /signin, popup landing page
// /signin/done, and POST /signout. Every failure shows the same message; forms carry a CSRF
// token. Failures are throttled per account *and client* and per client, so a stranger's
// wrong passwords throttle the stranger, never the account's owner on another client; many
// clients failing on one account slow it down (one attempt a minute per client) instead of
// locking it (protocol-spec.md#provider-processing). Whichever account back-end checks the
// password (builtin, IMAP, LDAP), the page, the throttling and the messages are the same; a
// back-end that does not answer gives "try again later" (503) and signs in no one. With the
// upstream OpenID back-end the page shows its button instead (signin-upstream.ts). A built-in
// account with a passkey gets no session for the right password alone: the passkey page
// follows, and only its success starts the session (passkeys.ts).
import {
  LOGIN_HINT_PARAM,
  limits,
  POPUP_DONE_PARAM,
  POPUP_DONE_VALUE,
  POPUP_PARAM,
  POPUP_PARAM_VALUE,
} from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { csrfValid } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import { paths } from '../paths.ts';
import { pairKey } from '../rate-limit.ts';
import { field, formBody, queryString } from './forms.ts';
import { html, sendPage } from './html.ts';
import { passkeySecondFactor } from './passkeys.ts';
import {
  CONTINUE_PARAM,
  FORM_EXPIRED,
  renderSignin,
  SIGNIN_FAILED,
  SIGNIN_THROTTLED,
  SIGNIN_UNAVAILABLE,
} from './signin-page.ts';
import { upstreamSigninRouter } from './signin-upstream.ts';
import { webContinuePath } from './web-signin.ts';

export {
  FORM_EXPIRED,
  SIGNIN_FAILED,
  SIGNIN_THROTTLED,
  SIGNIN_UNAVAILABLE,
} from './signin-page.ts';

function loginHint(value: string | undefined): string {
  return value !== undefined && value.length <= limits.maxEmailLength ? value : '';
}

export function signinRouter(ctx: ProviderContext): Router {
  const router = Router();
  const { config, limiters, backend } = ctx;
  // Built-in accounts with a passkey: the right password leads to the second factor.
  const secondFactor = passkeySecondFactor(ctx);
  const upstream =
    backend.kind === 'oidc' ? { label: backend.label, origin: backend.origin } : undefined;

  router.get(paths.signin, htmlSecurityHeaders, (req, res) => {
    renderSignin(req, res, 200, {
      email: loginHint(queryString(req, LOGIN_HINT_PARAM)),
      popup: queryString(req, POPUP_PARAM) === POPUP_PARAM_VALUE,
      continue: webContinuePath(queryString(req, CONTINUE_PARAM)),
      signupEnabled: config.signupEnabled,
      passkeys: backend.type === 'builtin',
      upstream,
    });
  });

  router.post(paths.signin, htmlSecurityHeaders, formBody(), async (req, res) => {
    const email = (field(req, 'email') ?? '').trim().slice(0, limits.maxEmailLength);
    const password = field(req, 'password') ?? '';
    const popup = field(req, POPUP_PARAM) === POPUP_PARAM_VALUE;
    // Only the provider's own web endpoint (the web flow), never anywhere else.
    const next = webContinuePath(field(req, CONTINUE_PARAM));
    const form = {
      email,
      popup,
      continue: next,
      signupEnabled: config.signupEnabled,
      passkeys: backend.type === 'builtin',
      upstream,
    };
    if (!csrfValid(req)) {
      renderSignin(req, res, 403, { ...form, error: FORM_EXPIRED });
      return;
    }
    if (backend.kind !== 'password') {
      // No passwords here: the upstream OpenID provider checks them.
      renderSignin(req, res, 400, form);
      return;
    }
    const now = config.now();
    const accountKey = email.toLowerCase();
    const ipKey = clientKey(req.ip);
    const pair = pairKey(ipKey, accountKey);
    const slowedDown = !(await limiters.signinAccount.allowed(accountKey, now));
    // A slowed-down account also bounds the guesses of all clients that never signed in to
    // it together; a client the owner used before is not counted (threat 16).
    const known = slowedDown && !(await limiters.signinKnown.allowed(pair, now));
    // Each attempt is counted before the password is checked, in one atomic step per
    // throttle, so a burst of parallel guesses cannot all pass the check before any failure
    // is counted (threat 16). What turns out not to be a failure is refunded below.
    const gates = [
      { limiter: limiters.signinPair, key: pair },
      { limiter: limiters.signinClient, key: ipKey },
      ...(slowedDown ? [{ limiter: limiters.signinSlow, key: pair }] : []),
      ...(slowedDown && !known ? [{ limiter: limiters.signinUnknown, key: accountKey }] : []),
    ];
    const taken: typeof gates = [];
    for (const gate of gates) {
      if (!(await gate.limiter.take(gate.key, now))) break;
      taken.push(gate);
    }
    // The slow-down gates count every attempt; the others only failures.
    const refund = async () => {
      for (const gate of taken) {
        const countsAttempts =
          gate.limiter === limiters.signinSlow || gate.limiter === limiters.signinUnknown;
        if (!countsAttempts) await gate.limiter.refund(gate.key);
      }
    };
    if (taken.length < gates.length) {
      await refund();
      config.logger.warn('signin_throttled', { slowedDown });
      renderSignin(req, res, 429, { ...form, error: SIGNIN_THROTTLED });
      return;
    }
    const result = await backend.check(email, password);
    if (!result.ok && result.code === 'backend_unavailable') {
      // Nothing was checked, so nothing counts as a failure; nobody is signed in.
      await refund();
      config.logger.error('signin_backend_unavailable', {
        backend: backend.type,
        reason: result.reason ?? 'unknown',
      });
      renderSignin(req, res, 503, { ...form, error: SIGNIN_UNAVAILABLE });
      return;
    }
    if (!result.ok) {
      await limiters.signinAccount.fail(accountKey, now);
      config.logger.info('signin_failed', {});
      renderSignin(req, res, 401, { ...form, error: SIGNIN_FAILED });
      return;
    }
    await refund();
    if (await secondFactor(req, res, result.email, { popup, continue: next })) {
      config.logger.info('signin_second_factor', {});
      return;
    }
    await limiters.signinPair.reset(pair);
    await limiters.signinKnown.fail(pair, now);
    await ctx.sessions.start(req, res, result.email);
    config.logger.info('signin', {});
    res.redirect(
      303,
      popup
        ? `${paths.signinDone}?${POPUP_DONE_PARAM}=${POPUP_DONE_VALUE}`
        : (next ?? paths.account),
    );
  });

  // The popup lands here; the extension also closes it on seeing the query.
  router.get(paths.signinDone, htmlSecurityHeaders, (_req, res) => {
    const nonce = String(res.locals.nonce);
    sendPage(
      res,
      200,
      'Signed in',
      html`<h1>You are signed in</h1>
<p>You can close this window.</p>
<script nonce="${nonce}">window.close();</script>`,
    );
  });

  router.post(paths.signout, htmlSecurityHeaders, formBody(), async (req, res) => {
    if (!csrfValid(req)) {
      sendPage(res, 403, 'Sign out', html`<p role="alert">${FORM_EXPIRED}</p>`);
      return;
    }
    await ctx.sessions.end(req, res);
    res.redirect(303, paths.signin);
  });

  // The upstream OpenID provider's round trip, when that is the back-end.
  router.use(upstreamSigninRouter(ctx));
  return router;
}
