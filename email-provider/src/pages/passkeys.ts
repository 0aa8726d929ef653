// Passkeys on the provider's pages (issue 16 item 4; the ceremonies are src/passkeys):
// - the account page's section: the account's passkeys, each with a Remove button, and Add;
// - POST /account/passkeys/new: the registration page (options bound to the session);
// - POST /account/passkeys: the browser's answer, verified and stored;
// - POST /account/passkeys/remove;
// - the second factor of a password sign-in: after the right password, an account with a
//   passkey gets a page asking for it instead of a session; its state is bound to this
//   browser (a __Host- cookie with a random id), short-lived and used once. POST
//   /signin/passkey finishes it; a failed, missing or expired second factor shows the one
//   generic sign-in failure and counts as a failure in the sign-in throttles.
// Every form is CSRF-protected; passkeys are for built-in accounts only (other back-ends keep
// their own second factors).
import { POPUP_DONE_PARAM, POPUP_DONE_VALUE, POPUP_PARAM, POPUP_PARAM_VALUE } from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { clearHostCookie, readCookie, setHostCookie } from '../http/cookies.ts';
import { CSRF_FIELD, csrfToken, csrfValid } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import { createPasskeys, PasskeyError, type PendingSignin } from '../passkeys/index.ts';
import { passkeyPaths } from '../passkeys/paths.ts';
import { CEREMONY_MS } from '../passkeys/state.ts';
import { paths } from '../paths.ts';
import { pairKey } from '../rate-limit.ts';
import type { PasskeyRecord } from '../storage/types.ts';
import { field, formBody } from './forms.ts';
import { html, SafeHtml, sendPage } from './html.ts';
import { PASSKEY_SCRIPT } from './passkeys-script.ts';
import {
  CONTINUE_PARAM,
  FORM_EXPIRED,
  renderSignin,
  SIGNIN_FAILED,
  SIGNIN_THROTTLED,
} from './signin-page.ts';
import { webContinuePath } from './web-signin.ts';

export { passkeyPaths };

/** Holds the random id of a pending second factor (the store keeps its hash). */
export const PASSKEY_SIGNIN_COOKIE = '__Host-bsso_passkey';
const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/;

export const PASSKEY_ADDED = 'Passkey added.';
export const PASSKEY_NOT_ADDED = 'The passkey was not added. Please try again.';
export const PASSKEY_LIMIT = 'This account has the most passkeys it may have.';

function passkeysEnabled(ctx: ProviderContext): boolean {
  return ctx.backend.type === 'builtin';
}

function ceremonyForm(
  res: Response,
  token: string,
  action: string,
  ceremony: 'create' | 'get',
  options: unknown,
  button: string,
  cancel: SafeHtml | '' = '',
): SafeHtml {
  const nonce = String(res.locals.nonce);
  return html`<form method="post" action="${action}" id="passkey-form" data-ceremony="${ceremony}" data-options="${JSON.stringify(options)}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<input type="hidden" name="response" value="">
<button type="submit" autofocus>${button}</button>
${cancel}
</form>
<p id="passkey-status" role="status"></p>
<script nonce="${nonce}">${new SafeHtml(PASSKEY_SCRIPT)}</script>`;
}

/** The account page's passkey section (empty for external back-ends). */
export function renderPasskeySection(
  ctx: ProviderContext,
  keys: PasskeyRecord[],
  token: string,
): SafeHtml | '' {
  if (!passkeysEnabled(ctx)) return '';
  const rows = keys.map((k) => {
    const when = new Date(k.createdAt).toISOString();
    return html`<tr><td><code>${k.id.slice(0, 12)}</code></td><td><time datetime="${when}">${when.replace('T', ' ').slice(0, 16)} UTC</time></td><td><form method="post" action="${passkeyPaths.remove}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<input type="hidden" name="id" value="${k.id}">
<button type="submit" aria-label="Remove passkey ${k.id.slice(0, 12)}">Remove</button>
</form></td></tr>`;
  });
  return html`<h2>Passkeys</h2>
<p>With a passkey, signing in needs your password and then the passkey, or the passkey alone if it checks it is you (a PIN, a fingerprint).</p>
${
  keys.length === 0
    ? html`<p>No passkeys.</p>`
    : html`<table id="passkeys"><thead><tr><th scope="col">Passkey</th><th scope="col">Added</th><th scope="col"></th></tr></thead>
<tbody>${rows}</tbody></table>`
}
<form method="post" action="${passkeyPaths.add}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<button type="submit">Add a passkey</button>
</form>`;
}

/** Lists the account's passkeys for the account page. */
export async function accountPasskeys(ctx: ProviderContext, email: string) {
  return passkeysEnabled(ctx) ? ctx.stores.passkeys.listForAccount(email) : [];
}

export interface SecondFactorNext {
  popup: boolean;
  continue?: string | undefined;
}

/**
 * Called by the sign-in page after the right password: for a built-in account with a
 * passkey, answers with the second factor's page and returns true (no session yet).
 */
export function passkeySecondFactor(ctx: ProviderContext) {
  const passkeys = createPasskeys({
    stores: ctx.stores,
    issuer: ctx.config.issuer,
    now: ctx.config.now,
  });
  return async (req: Request, res: Response, email: string, next: SecondFactorNext) => {
    if (!passkeysEnabled(ctx)) return false;
    const pending = await passkeys.startSignin(email, {
      popup: next.popup,
      ...(next.continue === undefined ? {} : { continue: next.continue }),
    });
    if (!pending) return false;
    renderSecondFactor(req, res, email, pending);
    return true;
  };
}

/**
 * The passkey page of a pending sign-in: the second factor after the right password (with
 * the account), or a sign-in with a passkey alone (without).
 */
function renderSecondFactor(
  req: Request,
  res: Response,
  email: string | undefined,
  pending: PendingSignin,
) {
  setHostCookie(res, PASSKEY_SIGNIN_COOKIE, pending.browserId, {
    sameSite: 'Strict',
    maxAge: Math.floor(CEREMONY_MS / 1000),
  });
  const token = csrfToken(req, res);
  const title = email === undefined ? 'Sign in with a passkey' : 'Confirm with your passkey';
  sendPage(
    res,
    200,
    title,
    html`<h1>${title}</h1>
${
  email === undefined
    ? html`<p>Choose your passkey for this provider when your browser asks.</p>`
    : html`<p>Your password was right. To finish signing in as <strong>${email}</strong>, use your passkey.</p>`
}
${ceremonyForm(
  res,
  token,
  passkeyPaths.signin,
  'get',
  pending.options,
  'Use passkey',
  html`<button type="submit" name="cancel" value="1">Cancel</button>`,
)}`,
  );
}

export function passkeyRouter(ctx: ProviderContext): Router {
  const router = Router();
  if (!passkeysEnabled(ctx)) return router;
  const { config, limiters } = ctx;
  const passkeys = createPasskeys({ stores: ctx.stores, issuer: config.issuer, now: config.now });

  const message = (res: Response, status: number, text: string) =>
    sendPage(
      res,
      status,
      'Passkeys',
      html`<p class="error" role="alert">${text}</p>
<p><a href="${paths.account}">Back to your account</a></p>`,
    );

  // The account's session for a form POST of the account page: signed in and with the
  // form's CSRF token; otherwise answered here (to the sign-in page, or the expired-form page).
  const formSession = async (req: Request, res: Response) => {
    const session = await ctx.sessions.current(req);
    if (!session) {
      res.redirect(303, paths.signin);
      return undefined;
    }
    if (!csrfValid(req)) {
      message(res, 403, FORM_EXPIRED);
      return undefined;
    }
    return session;
  };

  router.post(passkeyPaths.add, htmlSecurityHeaders, formBody(), async (req, res) => {
    const session = await formSession(req, res);
    if (!session) return;
    try {
      const options = await passkeys.startRegistration(session);
      const token = csrfToken(req, res);
      sendPage(
        res,
        200,
        'Add a passkey',
        html`<h1>Add a passkey</h1>
<p>Your browser will ask you to create a passkey for <strong>${session.email}</strong>.</p>
${ceremonyForm(res, token, passkeyPaths.register, 'create', options, 'Create passkey')}
<p><a href="${paths.account}">Cancel</a></p>`,
      );
    } catch (err) {
      if (err instanceof PasskeyError && err.code === 'too_many_passkeys') {
        message(res, 409, PASSKEY_LIMIT);
        return;
      }
      throw err;
    }
  });

  router.post(passkeyPaths.register, htmlSecurityHeaders, formBody(), async (req, res) => {
    const session = await formSession(req, res);
    if (!session) return;
    try {
      await passkeys.finishRegistration(session, field(req, 'response') ?? '');
      config.logger.info('passkey_added', {});
      res.redirect(303, paths.account);
    } catch (err) {
      if (!(err instanceof PasskeyError)) throw err;
      config.logger.info('passkey_refused', { code: err.code });
      message(res, 400, PASSKEY_NOT_ADDED);
    }
  });

  router.post(passkeyPaths.remove, htmlSecurityHeaders, formBody(), async (req, res) => {
    const session = await formSession(req, res);
    if (!session) return;
    const id = field(req, 'id') ?? '';
    if (id.length > 0 && id.length <= 1366 && (await passkeys.remove(session.email, id))) {
      config.logger.info('passkey_removed', {});
    }
    res.redirect(303, paths.account);
  });

  // A sign-in with a passkey alone: the passkey names the account and verifies the user.
  router.post(passkeyPaths.signinStart, htmlSecurityHeaders, formBody(), async (req, res) => {
    const popup = field(req, POPUP_PARAM) === POPUP_PARAM_VALUE;
    const next = webContinuePath(field(req, CONTINUE_PARAM));
    const page = (status: number, error: string) =>
      renderSignin(req, res, status, {
        email: '',
        popup,
        continue: next,
        error,
        signupEnabled: config.signupEnabled,
        passkeys: true,
      });
    if (!csrfValid(req)) {
      page(403, FORM_EXPIRED);
      return;
    }
    if (!(await limiters.signinClient.allowed(clientKey(req.ip), config.now()))) {
      config.logger.warn('signin_throttled', { slowedDown: false });
      page(429, SIGNIN_THROTTLED);
      return;
    }
    const pending = await passkeys.startPasskeySignin({
      popup,
      ...(next === undefined ? {} : { continue: next }),
    });
    renderSecondFactor(req, res, undefined, pending);
  });

  router.post(passkeyPaths.signin, htmlSecurityHeaders, formBody(), async (req, res) => {
    const now = config.now();
    const ipKey = clientKey(req.ip);
    // One try per pending sign-in: the cookie goes whatever happens next.
    const cookie = readCookie(req, PASSKEY_SIGNIN_COOKIE);
    clearHostCookie(res, PASSKEY_SIGNIN_COOKIE);
    const page = (status: number, error: string, again?: PasskeyError) => {
      renderSignin(req, res, status, {
        email: again?.account ?? '',
        popup: again?.popup ?? false,
        continue: again?.continue,
        error,
        signupEnabled: config.signupEnabled,
        passkeys: true,
      });
    };
    if (!csrfValid(req)) {
      page(403, FORM_EXPIRED);
      return;
    }
    if (!(await limiters.signinClient.allowed(ipKey, now))) {
      config.logger.warn('signin_throttled', { slowedDown: false });
      page(429, SIGNIN_THROTTLED);
      return;
    }
    try {
      if (cookie === undefined || !BROWSER_ID.test(cookie)) {
        throw new PasskeyError('ceremony_missing', 'No pending sign-in in this browser.');
      }
      const state = await passkeys.finishSignin(cookie, field(req, 'response') ?? '');
      const pair = pairKey(ipKey, state.email);
      await limiters.signinPair.reset(pair);
      await limiters.signinKnown.fail(pair, now);
      await ctx.sessions.start(req, res, state.email);
      config.logger.info('signin', { method: 'passkey' });
      res.redirect(
        303,
        state.popup
          ? `${paths.signinDone}?${POPUP_DONE_PARAM}=${POPUP_DONE_VALUE}`
          : (state.continue ?? paths.account),
      );
    } catch (err) {
      if (!(err instanceof PasskeyError)) throw err;
      // A failed second factor counts like a wrong password, for its client and, when
      // known, its account; the page is the one generic failure.
      await limiters.signinClient.fail(ipKey, now);
      if (err.account !== undefined) {
        await limiters.signinPair.fail(pairKey(ipKey, err.account), now);
        await limiters.signinAccount.fail(err.account, now);
      }
      const reason = field(req, 'cancel') === '1' ? 'cancelled' : err.code;
      config.logger.info('signin_failed', { method: 'passkey', reason });
      page(401, SIGNIN_FAILED, err);
    }
  });
  return router;
}
