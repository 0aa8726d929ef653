// The broker's sign-in popup (protocol-spec.md#fallback, duties 2 to 5; threat 47): GET
// /signin asks to mail a code to the address, POST /broker/code mails it, POST /broker/verify
// checks it and starts the provider session for the address, so later sign-ins at any site
// are one click. Every answer is the same for any address (no enumeration); the code is
// bound to the asking browser by the `__Host-bsso_broker_code` cookie.
import {
  LOGIN_HINT_PARAM,
  limits,
  POPUP_DONE_PARAM,
  POPUP_DONE_VALUE,
  POPUP_PARAM,
  POPUP_PARAM_VALUE,
  parseEmail,
} from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { type Request, type Response, Router } from 'express';
import { clearHostCookie, readCookie, setHostCookie } from '../http/cookies.ts';
import { CSRF_FIELD, csrfToken, csrfValid } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import type { SessionManager } from '../http/sessions.ts';
import type { Logger } from '../log.ts';
import { field, formBody, queryString } from '../pages/forms.ts';
import { html, type SafeHtml, sendPage } from '../pages/html.ts';
import { CONTINUE_PARAM } from '../pages/signin-page.ts';
import { webContinuePath } from '../pages/web-signin.ts';
import { paths } from '../paths.ts';
import type { Authority } from './authority.ts';
import { BRIDGE_CALLBACK_PATH, type Bridge } from './bridges.ts';
import { type CodeStore, createWindow } from './codes.ts';
import type { Mailer } from './mailer.ts';
import type { ResolvedBrokerOptions } from './options.ts';

export const brokerPaths = { code: '/broker/code', verify: '/broker/verify' } as const;
export const CODE_COOKIE = '__Host-bsso_broker_code';
/** The bridged round trip's state, nonce, PKCE verifier and address, bound to the browser. */
export const BRIDGE_COOKIE = '__Host-bsso_broker_bridge';
const BRIDGE_SECONDS = 600;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
const WINDOW_MS = 15 * 60_000;

export const BROKER_MESSAGES = {
  sent: 'If this address can receive mail, a code is on its way to it.',
  invalid: 'This is not a valid email address.',
  hasProvider: 'The domain of this address names its own sign-in provider: sign in there instead.',
  checkFailed: 'The domain of this address could not be checked right now. Please try again.',
  limited: 'Too many codes were asked for. Wait a few minutes, then try again.',
  mailDown:
    'The mail server cannot take the message right now; nothing was sent. Please try again in a moment.',
  wrong: 'This code is wrong. Check the mail and try again.',
  unknown: 'This code has expired or was asked for in another browser. Ask for a new code.',
  spent: 'Too many wrong codes. Ask for a new code.',
  expired: 'The form has expired. Please try again.',
  bridgeFailed: 'The sign-in did not succeed. Please try again.',
  bridgeDown: 'The sign-in provider of this domain is not answering. Please try again later.',
} as const;

export interface BrokerDeps {
  options: ResolvedBrokerOptions;
  sessions: SessionManager;
  authority: Authority;
  mailer: Mailer;
  codes: CodeStore;
  /** Bridged domains: sign-in through the domain's OpenID provider. */
  bridges: ReadonlyMap<string, Bridge>;
  /** The broker's issuer (the bridges' callback is on it). */
  issuer: string;
  logger: Logger;
  now: () => number;
}

interface Form {
  email: string;
  popup: boolean;
  /** The provider's own web endpoint to go on to after signing in (the web flow). */
  continue?: string | undefined;
}

function popupField(popup: boolean): SafeHtml {
  return popup ? html`<input type="hidden" name="popup" value="1">` : html``;
}

/** Carries the web flow's continue path through the broker's forms (pages/web-signin.ts). */
function continueField(form: Form): SafeHtml {
  return form.continue === undefined
    ? html``
    : html`<input type="hidden" name="${CONTINUE_PARAM}" value="${form.continue}">`;
}

/** After signing in: the popup's landing page, the web endpoint, or the account page. */
function afterSignin(popup: boolean, next: string | undefined): string {
  if (popup) return `${paths.signinDone}?${POPUP_DONE_PARAM}=${POPUP_DONE_VALUE}`;
  return webContinuePath(next) ?? paths.account;
}

/** The bridged issuers join form-action: browsers apply it to the form's redirect there. */
function allowBridges(res: Response, bridges: ReadonlyMap<string, Bridge>): void {
  if (bridges.size === 0) return;
  const origins = [...new Set([...bridges.values()].map((b) => b.origin))].join(' ');
  const csp = String(res.get('Content-Security-Policy') ?? '');
  res.set(
    'Content-Security-Policy',
    csp.replace("form-action 'self'", `form-action 'self' ${origins}`),
  );
}

interface PendingBridge {
  state: string;
  nonce: string;
  codeVerifier: string;
  email: string;
  popup: boolean;
  continue?: string;
  exp: number;
}

function decodeBridge(value: string | undefined, now: number): PendingBridge | undefined {
  if (!value || value.length > 3500) return undefined;
  try {
    const p = JSON.parse(
      Buffer.from(value, 'base64url').toString('utf8'),
    ) as Partial<PendingBridge>;
    const ok =
      [p.state, p.nonce, p.codeVerifier].every(
        (s) => typeof s === 'string' && s.length >= 22 && s.length <= 128,
      ) &&
      typeof p.email === 'string' &&
      typeof p.exp === 'number' &&
      p.exp > now;
    return ok ? (p as PendingBridge) : undefined;
  } catch {
    return undefined;
  }
}

function askPage(
  req: Request,
  res: Response,
  status: number,
  form: Form,
  error?: string,
  bridged = false,
): void {
  const token = csrfToken(req, res);
  sendPage(
    res,
    status,
    'Sign in with a code',
    html`<h1>Sign in with a code by email</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<p>Your address's domain has no sign-in provider of its own. We send a one-time code to the
address; type it here to sign in.</p>
<form method="post" action="${brokerPaths.code}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
${popupField(form.popup)}
${continueField(form)}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required
 maxlength="${limits.maxEmailLength}" value="${form.email}" autofocus>
<button type="submit">${bridged ? 'Continue with your email provider' : 'Send me a code'}</button>
</form>`,
  );
}

function codePage(req: Request, res: Response, status: number, form: Form, message: string) {
  const token = csrfToken(req, res);
  sendPage(
    res,
    status,
    'Type the code',
    html`<h1>Type the code</h1>
<p role="status">${message}</p>
<form method="post" action="${brokerPaths.verify}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
${popupField(form.popup)}
${continueField(form)}
<label for="code">Code from the mail to ${form.email}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required
 maxlength="12" autofocus>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${brokerPaths.code}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<input type="hidden" name="email" value="${form.email}">
${popupField(form.popup)}
${continueField(form)}
<button type="submit">Send a new code</button>
</form>`,
  );
}

export function brokerRouter(deps: BrokerDeps): Router {
  const router = Router();
  const { options, now } = deps;
  const perAddress = createWindow(options.codesPerAddress, WINDOW_MS);
  const perClient = createWindow(options.codesPerClient, WINDOW_MS);
  const perDomain = createWindow(options.codesPerDomain, WINDOW_MS);
  // The address each pending code was for, to show on the code page (by the browser's id).
  const minutes = Math.round(options.codeTtlSeconds / 60);

  router.get(paths.signin, htmlSecurityHeaders, (req, res) => {
    allowBridges(res, deps.bridges);
    const hint = queryString(req, LOGIN_HINT_PARAM) ?? '';
    const email = hint.length <= limits.maxEmailLength ? hint : '';
    const bridged = deps.bridges.has(email.slice(email.lastIndexOf('@') + 1).toLowerCase());
    const popup = queryString(req, POPUP_PARAM) === POPUP_PARAM_VALUE;
    const next = webContinuePath(queryString(req, CONTINUE_PARAM));
    askPage(req, res, 200, { email, popup, continue: next }, undefined, bridged);
  });

  router.post(brokerPaths.code, htmlSecurityHeaders, formBody(), async (req, res) => {
    allowBridges(res, deps.bridges);
    const raw = (field(req, 'email') ?? '').trim().slice(0, limits.maxEmailLength);
    const form: Form = {
      email: raw,
      popup: field(req, POPUP_PARAM) === POPUP_PARAM_VALUE,
      continue: webContinuePath(field(req, CONTINUE_PARAM)),
    };
    if (!csrfValid(req)) return askPage(req, res, 403, form, BROKER_MESSAGES.expired);
    let email: ReturnType<typeof parseEmail>;
    try {
      email = parseEmail(raw); // refuses CR, LF and every control character: no header injection
    } catch {
      return askPage(req, res, 400, form, BROKER_MESSAGES.invalid);
    }
    const t = now();
    const client = clientKey(req.ip);
    if (!perClient.take(client, t)) return askPage(req, res, 429, form, BROKER_MESSAGES.limited);
    const answer = await deps.authority.check(email.domain);
    if (answer === 'has_provider') {
      return askPage(req, res, 403, form, BROKER_MESSAGES.hasProvider);
    }
    if (answer === 'failed') return askPage(req, res, 503, form, BROKER_MESSAGES.checkFailed);
    const bridge = deps.bridges.get(email.domain);
    if (bridge) {
      // No mail: the domain's own OpenID provider proves the address.
      try {
        const { url, transaction } = await bridge.upstream.start({ loginHint: email.address });
        const pending: PendingBridge = {
          ...transaction,
          email: email.address,
          popup: form.popup,
          ...(form.continue === undefined ? {} : { continue: form.continue }),
          exp: t + BRIDGE_SECONDS * 1000,
        };
        setHostCookie(
          res,
          BRIDGE_COOKIE,
          Buffer.from(JSON.stringify(pending)).toString('base64url'),
          {
            sameSite: 'Lax',
            maxAge: BRIDGE_SECONDS,
          },
        );
        return res.redirect(303, url.href);
      } catch {
        deps.logger.error('broker_bridge_unavailable', {});
        return askPage(req, res, 503, form, BROKER_MESSAGES.bridgeDown);
      }
    }
    const gates = [
      { w: perAddress, key: email.address },
      { w: perDomain, key: email.domain },
    ];
    const taken: typeof gates = [];
    for (const gate of gates) {
      if (!gate.w.take(gate.key, t)) break;
      taken.push(gate);
    }
    if (taken.length < gates.length) {
      for (const gate of taken) gate.w.refund(gate.key);
      deps.logger.warn('broker_code_limited', {});
      return askPage(req, res, 429, form, BROKER_MESSAGES.limited);
    }
    const previous = readCookie(req, CODE_COOKIE);
    if (previous && COOKIE_VALUE.test(previous)) deps.codes.drop(previous);
    const { id, code } = deps.codes.issue(email.address, t, options.codeTtlSeconds * 1000);
    if (!(await deps.mailer.sendCode(email.address, code, minutes))) {
      // Nothing was sent, so nothing is counted and no code waits: the user can ask again.
      deps.codes.drop(id);
      for (const gate of taken) gate.w.refund(gate.key);
      perClient.refund(client);
      deps.logger.error('broker_mail_failed', {});
      return askPage(req, res, 503, { ...form, email: email.address }, BROKER_MESSAGES.mailDown);
    }
    setHostCookie(res, CODE_COOKIE, id, { sameSite: 'Lax', maxAge: options.codeTtlSeconds });
    deps.logger.info('broker_code_sent', {});
    codePage(req, res, 200, { ...form, email: email.address }, BROKER_MESSAGES.sent);
  });

  router.post(brokerPaths.verify, htmlSecurityHeaders, formBody(), async (req, res) => {
    const popup = field(req, POPUP_PARAM) === POPUP_PARAM_VALUE;
    const code = (field(req, 'code') ?? '').slice(0, 12);
    const next = webContinuePath(field(req, CONTINUE_PARAM));
    const form: Form = { email: 'your address', popup, continue: next };
    if (!csrfValid(req))
      return askPage(req, res, 403, { email: '', popup }, BROKER_MESSAGES.expired);
    const cookie = readCookie(req, CODE_COOKIE);
    const id = cookie && COOKIE_VALUE.test(cookie) ? cookie : undefined;
    const result = deps.codes.check(id, code, now(), options.codeAttempts);
    if (!result.ok) {
      deps.logger.info('broker_code_refused', { reason: result.reason });
      if (result.reason === 'wrong') return codePage(req, res, 401, form, BROKER_MESSAGES.wrong);
      clearHostCookie(res, CODE_COOKIE);
      const status = result.reason === 'spent' ? 429 : 400;
      return askPage(req, res, status, { email: '', popup }, BROKER_MESSAGES[result.reason]);
    }
    clearHostCookie(res, CODE_COOKIE);
    await deps.sessions.start(req, res, result.email);
    deps.logger.info('broker_signin', {});
    res.redirect(303, afterSignin(popup, next));
  });
  router.get(BRIDGE_CALLBACK_PATH, htmlSecurityHeaders, async (req, res) => {
    // One round trip per transaction: the cookie goes whatever happens next.
    const pending = decodeBridge(readCookie(req, BRIDGE_COOKIE), now());
    clearHostCookie(res, BRIDGE_COOKIE);
    const popup = pending?.popup ?? false;
    const refuse = (reason: string) => {
      deps.logger.info('broker_bridge_refused', { reason });
      askPage(req, res, 401, { email: '', popup }, BROKER_MESSAGES.bridgeFailed);
    };
    const domain = pending?.email.slice(pending.email.lastIndexOf('@') + 1);
    const bridge = domain === undefined ? undefined : deps.bridges.get(domain);
    if (!pending || !bridge) return refuse('no_transaction');
    let email: string;
    try {
      email = (await bridge.upstream.finish(new URL(req.originalUrl, deps.issuer), pending)).email;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'upstream_unavailable') {
        deps.logger.error('broker_bridge_unavailable', {});
        return askPage(req, res, 503, { email: '', popup }, BROKER_MESSAGES.bridgeDown);
      }
      return refuse('rejected'); // includes an address the provider has not verified
    }
    // Only the address asked for, in the bridged domain (finish() required email_verified).
    if (email !== pending.email || !email.endsWith(`@${bridge.domain}`)) {
      return refuse('other_address');
    }
    await deps.sessions.start(req, res, email);
    deps.logger.info('broker_signin', { bridge: true });
    res.redirect(303, afterSignin(popup, pending.continue));
  });
  return router;
}
