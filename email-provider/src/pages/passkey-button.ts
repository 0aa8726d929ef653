// The sign-in page's "Use a passkey" button (built-in accounts): a form posting to
// the passkey sign-in's start (pages/passkeys.ts), carrying the form's CSRF token and where
// the sign-in goes on (the field is signin-page.ts's CONTINUE_PARAM, written out: that module
// imports this one). Kept apart from passkeys.ts, which itself uses the sign-in page.
import { POPUP_PARAM, POPUP_PARAM_VALUE } from '@bsso/protocol';
import { CSRF_FIELD } from '../http/csrf.ts';
import { passkeyPaths } from '../passkeys/paths.ts';
import { html, type SafeHtml } from './html.ts';

export function passkeySigninButton(
  token: string,
  form: { popup: boolean; continue?: string | undefined },
): SafeHtml {
  return html`<form method="post" action="${passkeyPaths.signinStart}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
${form.popup ? html`<input type="hidden" name="${POPUP_PARAM}" value="${POPUP_PARAM_VALUE}">` : ''}
${form.continue === undefined ? '' : html`<input type="hidden" name="continue" value="${form.continue}">`}
<button type="submit">Use a passkey</button>
</form>`;
}
