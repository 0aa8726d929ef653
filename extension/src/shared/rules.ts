// Pure rules of the extension: which endpoint a page may name, which address to use, when the
// sign-in popup is done. No browser APIs here, so node:test can run them.
import {
  BssoError,
  isLocalhostName,
  POPUP_DONE_PARAM,
  POPUP_DONE_VALUE,
  parseEndpointForPage,
} from '@bsso/protocol';
import { type Failure, type FailureCode, failure } from './messages.ts';

/** Any thrown value as a failure result; unexpected errors keep their message hidden. */
export function toFailure(err: unknown): Failure {
  if (err instanceof BssoError) return failure(err.code, err.message);
  return failure('server_error');
}

/**
 * The endpoint a page names, as the extension accepts it: same origin as the top-level page
 * and https; plain http only when the page itself is on a localhost name (development).
 */
export function endpointForPage(
  href: string,
  pageUrl: string,
): { ok: true; endpoint: string } | Failure {
  let hostname = '';
  try {
    hostname = new URL(pageUrl).hostname;
  } catch {
    return failure('insecure_url');
  }
  try {
    const policy = { allowLocalhostHttp: isLocalhostName(hostname) };
    return { ok: true, endpoint: parseEndpointForPage(href, pageUrl, policy).href };
  } catch (err) {
    return toFailure(err);
  }
}

export interface EmailPreferences {
  emails: readonly string[];
  defaultEmail: string | null;
  /** Remembered address per site origin. */
  siteChoices: Readonly<Record<string, string>>;
}

type EmailChoice =
  | { kind: 'email'; email: string; source: 'site' | 'default' }
  | { kind: 'chooser' }
  | { kind: 'none' };

/**
 * Which address to use at a site: the remembered choice for that site, else the default, else
 * ask (chooser). A remembered or default address that is no longer kept does not count.
 */
export function resolveEmailChoice(prefs: EmailPreferences, site: string): EmailChoice {
  if (prefs.emails.length === 0) return { kind: 'none' };
  const remembered = Object.hasOwn(prefs.siteChoices, site) ? prefs.siteChoices[site] : undefined;
  if (remembered !== undefined && prefs.emails.includes(remembered)) {
    return { kind: 'email', email: remembered, source: 'site' };
  }
  if (prefs.defaultEmail !== null && prefs.emails.includes(prefs.defaultEmail)) {
    return { kind: 'email', email: prefs.defaultEmail, source: 'default' };
  }
  return { kind: 'chooser' };
}

/**
 * Failures the page is not told about (no notice, no change to the page): they end a sign-in
 * before the user agreed that the site gets an address (cancelled in the extension's window,
 * no address yet, one already waiting for the user), so a page never learns that a click
 * started anything (protocol-spec.md#page-markup).
 */
export const QUIET_FAILURES: ReadonlySet<FailureCode> = new Set<FailureCode>([
  'user_cancelled',
  'no_email',
  'busy',
  'sender_rejected',
]);

/**
 * True when a click on `target` would navigate or submit by default (a link, or a form's
 * submit control): only then does the extension cancel the click's default action. A page
 * can read `defaultPrevented`, so any other click stays untouched.
 */
export function clickNavigates(target: Element): boolean {
  if (target.closest('a[href], area[href]') !== null) return true;
  const control = target.closest('button, input');
  if (control === null || (control as HTMLButtonElement | HTMLInputElement).form === null) {
    return false;
  }
  // A button without a (valid) type is a submit button.
  const type = (control.getAttribute('type') ?? '').toLowerCase();
  return control.localName === 'button'
    ? type !== 'button' && type !== 'reset'
    : type === 'submit' || type === 'image';
}

/**
 * True when a popup tab reached the provider's "sign-in finished" page
 * (protocol-spec.md#sign-in-popup, step 2).
 */
export function isPopupDone(url: string | undefined, issuer: string): boolean {
  if (url === undefined) return false;
  try {
    const parsed = new URL(url);
    return (
      parsed.origin === issuer && parsed.searchParams.get(POPUP_DONE_PARAM) === POPUP_DONE_VALUE
    );
  } catch {
    return false;
  }
}
