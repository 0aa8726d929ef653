// The sign-in page as the user sees it, whichever back-end checks the credentials: the
// password form, or the upstream OpenID provider's button; and its messages, one per
// outcome (protocol-spec.md#sign-in-popup).
import { limits, POPUP_PARAM, POPUP_PARAM_VALUE } from '@bsso/protocol';
import type { Request, Response } from 'express';
import { CSRF_FIELD, csrfToken } from '../http/csrf.ts';
import { paths } from '../paths.ts';
import { html, SafeHtml, sendPage } from './html.ts';
import { passkeySigninButton } from './passkey-button.ts';

/** Query parameter and form field naming the web endpoint to go on to (pages/web-signin.ts). */
export const CONTINUE_PARAM = 'continue';

export const SIGNIN_FAILED = 'Email or password is wrong.';
export const SIGNIN_THROTTLED = 'Too many attempts. Wait a few minutes, then try again.';
export const FORM_EXPIRED = 'The form has expired. Please try again.';
export const SIGNIN_UNAVAILABLE = 'Sign-in is not available right now. Please try again later.';

interface SigninForm {
  email: string;
  popup: boolean;
  /** The provider's own web endpoint to go on to after signing in (pages/web-signin.ts). */
  continue?: string | undefined;
  error?: string;
  signupEnabled: boolean;
  /** Offer "Use a passkey" (built-in accounts; pages/passkey-button.ts). */
  passkeys?: boolean;
  /**
   * The upstream OpenID provider: a button to sign in there instead of the form. Its origin
   * joins the page's form-action, which browsers also apply to the form's redirect there.
   */
  upstream?: { label: string; origin: string } | undefined;
}

export function renderSignin(req: Request, res: Response, status: number, form: SigninForm): void {
  const token = csrfToken(req, res);
  if (form.upstream !== undefined) {
    renderUpstreamButton(res, status, token, form, form.upstream);
    return;
  }
  const focusPassword = form.email !== '';
  const error = form.error
    ? html`<p class="error" role="alert" id="signin-error">${form.error}</p>`
    : '';
  const described = form.error ? new SafeHtml(' aria-describedby="signin-error"') : '';
  sendPage(
    res,
    status,
    'Sign in',
    html`<h1>Sign in to your email account</h1>
${error}
<form method="post" action="${paths.signin}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
${form.popup ? html`<input type="hidden" name="${POPUP_PARAM}" value="${POPUP_PARAM_VALUE}">` : ''}
${form.continue === undefined ? '' : html`<input type="hidden" name="${CONTINUE_PARAM}" value="${form.continue}">`}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" required
  maxlength="${limits.maxEmailLength}" value="${form.email}"${described}${focusPassword ? '' : new SafeHtml(' autofocus')}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
  maxlength="1024"${described}${focusPassword ? new SafeHtml(' autofocus') : ''}>
<button type="submit">Sign in</button>
</form>
${form.passkeys ? passkeySigninButton(token, form) : ''}
${form.signupEnabled ? html`<p><a href="${paths.signup}">Create an account</a></p>` : ''}`,
  );
}

function renderUpstreamButton(
  res: Response,
  status: number,
  token: string,
  form: SigninForm,
  upstream: { label: string; origin: string },
) {
  const csp = String(res.get('Content-Security-Policy') ?? '');
  res.set(
    'Content-Security-Policy',
    csp.replace("form-action 'self'", `form-action 'self' ${upstream.origin}`),
  );
  sendPage(
    res,
    status,
    'Sign in',
    html`<h1>Sign in to your email account</h1>
${form.error ? html`<p class="error" role="alert" id="signin-error">${form.error}</p>` : ''}
<form method="post" action="${paths.signinUpstream}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
${form.popup ? html`<input type="hidden" name="${POPUP_PARAM}" value="${POPUP_PARAM_VALUE}">` : ''}
${form.continue === undefined ? '' : html`<input type="hidden" name="${CONTINUE_PARAM}" value="${form.continue}">`}
<input type="hidden" name="email" value="${form.email}">
<button type="submit" autofocus>Sign in with ${upstream.label}</button>
</form>`,
  );
}
