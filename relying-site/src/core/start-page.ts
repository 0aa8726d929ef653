// The site's start page of the web flow (protocol-spec.md#web-flow): GET <endpoint>?bsso=start
// shows a form asking for the address; its POST (same URL, from the site's own pages only)
// checks the address, runs discovery, binds a nonce to the browser as a challenge does, and
// answers 303 to the provider's web endpoint. A domain whose provider has no web endpoint
// gets a clear page and no redirect. Nothing here is on the wire of the extension's flow.
import {
  BssoError,
  DELIVERY_RETURN_TO_FIELD,
  errorCodes,
  limits,
  parseEmail,
  START_QUERY,
  safeReturnPath,
  webSignInUrl,
} from '@bsso/protocol';
import type { SiteAnswer } from './answers.ts';
import { BROWSER_COOKIE, browserCookie, readCookie } from './cookies.ts';
import { checkContentType, checkDeclaredLength, readBody } from './delivery.ts';
import type { SiteCore } from './site-core.ts';

/**
 * The browser id again, for the delivery of this flow: a cross-site POST from the provider's
 * page carries no SameSite=Strict cookie (protocol-spec.md#web-flow). It lives as long as a
 * nonce and is removed at delivery.
 */
export const WEB_BROWSER_COOKIE = '__Host-bsso_web';
/** The address the user asked the site to remember: first-party, only the site reads it. */
export const EMAIL_COOKIE = '__Host-bsso_email';
const EMAIL_FIELD = 'email';
const REMEMBER_FIELD = 'remember';
const REMEMBER_SECONDS = 365 * 86_400;

export function webBrowserCookie(id: string, maxAgeSeconds: number): string {
  return `${WEB_BROWSER_COOKIE}=${id}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=None`;
}

export function clearWebBrowserCookie(): string {
  return `${WEB_BROWSER_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None`;
}

function emailCookie(email: string | undefined): string {
  return email === undefined
    ? `${EMAIL_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`
    : `${EMAIL_COOKIE}=${encodeURIComponent(email)}; Path=/; Max-Age=${REMEMBER_SECONDS}; Secure; HttpOnly; SameSite=Lax`;
}

/** The remembered address, if the cookie holds a valid one. */
function rememberedEmail(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== EMAIL_COOKIE) continue;
    try {
      return parseEmail(decodeURIComponent(part.slice(eq + 1).trim())).address;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No script, no style, no frame; the form's redirect goes to the provider.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

interface FormState {
  action: string;
  email: string;
  remember: boolean;
  returnTo: string;
  message?: string;
  code?: string;
}

function formPage(status: number, state: FormState, setCookies: string[] = []): SiteAnswer {
  const message =
    state.message === undefined
      ? ''
      : `<p role="alert" id="bsso-error">${escapeHtml(state.message)}${
          state.code === undefined ? '' : ` Error code: <code>${escapeHtml(state.code)}</code>`
        }</p>`;
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in</title></head>
<body><main>
<h1>Sign in with your email address</h1>
${message}
<form method="post" action="${escapeHtml(state.action)}">
<label for="bsso-email">Email address</label>
<input id="bsso-email" name="${EMAIL_FIELD}" type="email" autocomplete="email" required maxlength="${limits.maxEmailLength}" value="${escapeHtml(state.email)}" autofocus${state.message === undefined ? '' : ' aria-describedby="bsso-error"'}>
<label><input type="checkbox" name="${REMEMBER_FIELD}" value="1"${state.remember ? ' checked' : ''}> Remember this address on this site</label>
<input type="hidden" name="${DELIVERY_RETURN_TO_FIELD}" value="${escapeHtml(state.returnTo)}">
<button type="submit">Continue</button>
</form>
<p>Your email provider will ask you to confirm. With the BSSO browser extension, the site's
sign-in button does this in one click.</p>
<p><a href="${escapeHtml(state.returnTo)}">Back to the site</a></p>
</main></body></html>
`;
  return { status, headers: { ...PAGE_HEADERS }, setCookies, body };
}

export interface StartPageRequest {
  header(name: string): string | undefined;
  body(): AsyncIterable<Uint8Array | string>;
}

export interface StartPage {
  /** GET <endpoint>?bsso=start[&return_to=<path>]: the form. */
  show(request: StartPageRequest, query: URLSearchParams): SiteAnswer;
  /** POST <endpoint>?bsso=start: the address, then the redirect to the provider. */
  submit(request: StartPageRequest): Promise<SiteAnswer>;
}

export function createStartPage(core: SiteCore): StartPage {
  const action = `${core.endpoint.pathname}?bsso=${START_QUERY}`;
  return {
    show(request, query) {
      const remembered = rememberedEmail(request.header('cookie'));
      return formPage(200, {
        action,
        email: remembered ?? '',
        remember: remembered !== undefined,
        returnTo: safeReturnPath(query.get(DELIVERY_RETURN_TO_FIELD) ?? undefined),
      });
    },

    async submit(request) {
      checkContentType(request.header('content-type'));
      checkDeclaredLength(request.header('content-length'), limits.maxRequestBodyBytes);
      const form = new URLSearchParams(await readBody(request.body(), limits.maxRequestBodyBytes));
      const typed = (form.get(EMAIL_FIELD) ?? '').trim().slice(0, limits.maxEmailLength + 1);
      const remember = form.get(REMEMBER_FIELD) === '1';
      const returnTo = safeReturnPath(form.get(DELIVERY_RETURN_TO_FIELD) ?? undefined);
      const state = { action, email: typed, remember, returnTo };
      let email: string;
      let domain: string;
      try {
        ({ address: email, domain } = parseEmail(typed));
      } catch {
        // No network call for an invalid address.
        return formPage(400, {
          ...state,
          message: 'That is not a valid email address.',
          code: 'invalid_email',
        });
      }
      let webEndpoint: string | undefined;
      try {
        webEndpoint = (await core.providerFor(domain)).web_endpoint;
      } catch (err) {
        const code = err instanceof BssoError ? err.code : 'server_error';
        const text =
          code === 'no_provider'
            ? `${domain} does not offer sign-in with BSSO.`
            : errorCodes[code].description;
        return formPage(errorCodes[code].status, { ...state, email, message: text, code });
      }
      if (webEndpoint === undefined) {
        return formPage(200, {
          ...state,
          email,
          message: `The email provider of ${domain} does not offer sign-in without the BSSO browser extension. Install the extension, or use another address.`,
        });
      }
      const setCookies: string[] = [emailCookie(remember ? email : undefined)];
      let browserId = readCookie(request.header('cookie'), BROWSER_COOKIE);
      if (browserId === undefined) {
        browserId = core.newBrowserId();
        setCookies.push(browserCookie(browserId));
      }
      // The nonce and handle exactly as a challenge makes them.
      const { nonce, handle, expires_in } = await core.challenge({ browserId, domain });
      setCookies.push(webBrowserCookie(browserId, expires_in));
      const location = webSignInUrl(webEndpoint, {
        audience: core.endpoint.href,
        nonce,
        login_hint: email,
        ...(handle === undefined ? {} : { handle }),
        ...(returnTo === '/' ? {} : { return_to: returnTo }),
      });
      return {
        status: 303,
        headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
        setCookies,
        body: '',
      };
    },
  };
}
