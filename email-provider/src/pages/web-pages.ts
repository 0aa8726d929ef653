// The pages of the web flow (protocol-spec.md#web-flow): the consent page, the page that
// POSTs the delivery form to the audience, the wrong-account, cancelled and error pages.
// Every one is HTML under htmlSecurityHeaders (no framing, no-store, no referrer).
import {
  BssoError,
  DELIVERY_ASSERTION_FIELD,
  DELIVERY_RETURN_TO_FIELD,
  LOGIN_HINT_PARAM,
  toErrorResponse,
  type WebSignInRequest,
} from '@bsso/protocol';
import type { Response } from 'express';
import { CSRF_FIELD } from '../http/csrf.ts';
import { paths } from '../paths.ts';
import { html, type SafeHtml, sendPage } from './html.ts';

/** Form field of the consent page naming the user's choice. */
export const DECISION_FIELD = 'decision';
/**
 * How long the consent page's Continue ignores activation after it shows, so that a page
 * that opened it under the cursor cannot land the second click of a double click on it.
 */
export const CONTINUE_DELAY_MS = 700;

/** The request's parameters as hidden fields, to carry them through the consent POST. */
function hiddenFields(request: WebSignInRequest): SafeHtml[] {
  const entries: [string, string | undefined][] = [
    ['audience', request.audience],
    ['nonce', request.nonce],
    [LOGIN_HINT_PARAM, request.login_hint],
    ['handle', request.handle],
    ['return_to', request.return_to],
  ];
  return entries
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`);
}

export function renderConsent(
  res: Response,
  request: WebSignInRequest,
  csrf: string,
  origin: string,
): void {
  const nonce = String(res.locals.nonce);
  sendPage(
    res,
    200,
    'Sign in to a site',
    html`<h1>Sign in to ${origin}?</h1>
<p>The site <strong>${origin}</strong> asks your email provider to confirm that you are
<strong>${request.login_hint}</strong>.</p>
<p>If you continue, this site learns your address. You will not be asked again for this site;
you can withdraw your agreement on your <a href="${paths.account}">account page</a>.</p>
<form method="post" action="${paths.web}">
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
${hiddenFields(request)}<button type="submit" name="${DECISION_FIELD}" value="continue" id="continue">Continue</button>
<button type="submit" name="${DECISION_FIELD}" value="cancel">Cancel</button>
</form>
<script nonce="${nonce}">
const b = document.getElementById('continue');
const hold = () => { b.disabled = true; setTimeout(() => { b.disabled = false; }, ${CONTINUE_DELAY_MS}); };
hold();
document.addEventListener('visibilitychange', () => { if (!document.hidden) hold(); });
window.addEventListener('focus', hold);
</script>`,
  );
}

/**
 * The answer: the delivery form (protocol-spec.md#delivery) POSTed to the audience and
 * nowhere else, submitted on load; a button submits it without scripts. The assertion is in
 * the body of this no-store page only, never in a URL.
 */
export function renderDelivery(
  res: Response,
  request: WebSignInRequest,
  assertion: string,
  origin: string,
): void {
  const nonce = String(res.locals.nonce);
  res.set(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      `form-action ${origin}`,
      `style-src 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
  );
  const returnTo =
    request.return_to === undefined
      ? ''
      : html`<input type="hidden" name="${DELIVERY_RETURN_TO_FIELD}" value="${request.return_to}">`;
  sendPage(
    res,
    200,
    'Signing in',
    html`<h1>Signing you in to ${origin}</h1>
<form method="post" action="${request.audience}" id="delivery">
<input type="hidden" name="${DELIVERY_ASSERTION_FIELD}" value="${assertion}">
${returnTo}
<button type="submit">Continue to ${origin}</button>
</form>
<script nonce="${nonce}">document.getElementById('delivery').submit();</script>`,
  );
}

export function renderCancelled(res: Response, request: WebSignInRequest, origin: string): void {
  sendPage(
    res,
    200,
    'Not signed in',
    html`<h1>You did not sign in</h1>
<p role="status">Nothing was sent to ${origin}.</p>
<p><a href="${origin}${request.return_to ?? '/'}">Back to ${origin}</a></p>`,
  );
}

export function renderWrongAccount(
  res: Response,
  request: WebSignInRequest,
  signedInAs: string,
  signinHref: string,
): void {
  sendPage(
    res,
    403,
    'Another account',
    html`<h1>You are signed in as another address</h1>
<p role="alert">The site asked for <strong>${request.login_hint}</strong>, but you are signed in
at your email provider as <strong>${signedInAs}</strong>. Nothing was sent to the site.</p>
<p><a href="${signinHref}">Sign in as ${request.login_hint}</a></p>
<p>Error code: <code>wrong_account</code></p>`,
  );
}

/** A refusal: the error's status, its fixed description and code; never a POST, never a link to the audience. */
export function renderWebError(res: Response, err: unknown): string {
  const { status, body } = toErrorResponse(
    err instanceof BssoError ? err : new BssoError('server_error'),
    { detail: false },
  );
  sendPage(
    res,
    status,
    'Sign-in refused',
    html`<h1>This sign-in cannot go on</h1>
<p role="alert">${body.error_description}</p>
<p>Nothing was sent to the site. Error code: <code>${body.error}</code></p>`,
  );
  return body.error;
}
