// The whole site flow over HTTP, framework-free: a request described as plain data in, the
// answer to send out. Challenge (protocol-spec.md#challenge), delivery
// (protocol-spec.md#delivery, #site-verification steps 1 to 7) and sign-out. Every adapter
// (Express, Fastify, Passport, the web-standard handler, node:http) only translates HTTP.
import { BssoError, CHALLENGE_QUERY, limits, START_QUERY } from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { errorAnswer, jsonAnswer, redirectAnswer, type SiteAnswer } from './answers.ts';
import {
  BROWSER_COOKIE,
  browserCookie,
  clearSessionCookie,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
} from './cookies.ts';
import { checkContentType, checkDeclaredLength, parseDeliveryForm, readBody } from './delivery.ts';
import { prefersJson } from './negotiate.ts';
import type { SiteCoreOptions } from './options.ts';
import { createSiteCore, type SiteCore } from './site-core.ts';
import { clearWebBrowserCookie, createStartPage, WEB_BROWSER_COOKIE } from './start-page.ts';

/** A request as the core needs it; `raw` is the server's own request, handed to onSignIn. */
export interface SiteRequest<Raw = unknown> {
  method: string;
  /** The request target: path and query ('/bsso?bsso=challenge&domain=mail.example'). */
  url: string;
  /** One header by its lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  /**
   * The client's address for the per-client limit (behind trusted proxies, the one they
   * forwarded); undefined counts every such request as one client.
   */
  clientAddress: string | undefined;
  /** The body, read (with the size cap) only for a delivery. */
  body(): AsyncIterable<Uint8Array | string>;
  raw: Raw;
}

export interface BssoEndpointOptions<Raw = unknown> extends SiteCoreOptions {
  /**
   * Called after verification, before the session exists: map the address to an account.
   * Throwing refuses the sign-in (no session).
   */
  onSignIn?: (email: string, req: Raw) => Promise<void> | void;
  /**
   * How a successful delivery is answered (protocol-spec.md#delivery): 'redirect' (default),
   * 303 to the return path; 'page', the return path's page itself in the answer to the POST,
   * one navigation less. Adapters that can hand the request on to the app's own route do
   * ('page' in Express); the others answer 303. The page then gets `req.bsso.delivered` and
   * should set its URL to it (history.replaceState), so that a reload does not resend the form.
   */
  deliveryAnswer?: 'redirect' | 'page';
}

/** Who a request is signed in as; adapters put it on their request (`req.bsso`). */
export interface BssoRequestState {
  /** The signed-in email address, or null. */
  email: string | null;
  /**
   * Set when this request is the delivery itself, answered with the page
   * (`deliveryAnswer: 'page'`): the return path, which the page should make its URL.
   */
  delivered?: string;
}

/** A successful delivery's answer: the 303, and what an adapter needs to show the page instead. */
export interface SignedInAnswer extends SiteAnswer {
  signedIn: VerifiedDelivery;
}

export function isSignedInAnswer(answer: SiteAnswer): answer is SignedInAnswer {
  return 'signedIn' in answer;
}

/** A verified delivery (steps 1 to 6), before any session. */
export interface VerifiedDelivery {
  email: string;
  /** The safe return path of the form ('/' when absent or unsafe). */
  returnTo: string;
}

export interface BssoEndpoint<Raw = unknown> {
  readonly core: SiteCore;
  /** The endpoint's path and its sign-out path. */
  readonly paths: { endpoint: string; signOut: string };
  /** Answers a request for the endpoint or its sign-out path; null for any other path. */
  handle(request: SiteRequest<Raw>): Promise<SiteAnswer | null>;
  /** The signed-in address of a request's session cookie, or null (a failing store: null). */
  email(cookieHeader: string | undefined): Promise<string | null>;
  /** For adapters with their own sessions (Passport): rate limit, then steps 1 to 6. */
  verifyDelivery(request: SiteRequest<Raw>): Promise<VerifiedDelivery>;
  /** Throws origin_not_allowed unless the request comes from the site's own pages. */
  checkSameOrigin(request: SiteRequest<Raw>): void;
  /** An error as the endpoint answers it (JSON when the request prefers it). */
  errorAnswer(err: unknown, request: SiteRequest<Raw>): SiteAnswer;
}

export function createBssoEndpoint<Raw = unknown>(
  options: BssoEndpointOptions<Raw>,
): BssoEndpoint<Raw> {
  const core = createSiteCore(options);
  const { onSignIn } = options;
  const paths = { endpoint: core.endpoint.pathname, signOut: `${core.endpoint.pathname}/signout` };

  const limit = (request: SiteRequest<Raw>) => core.limit(clientKey(request.clientAddress));
  const start = createStartPage(core);

  /** GET <endpoint>?bsso=challenge&domain=<domain>: a nonce bound to this browser. */
  async function challenge(request: SiteRequest<Raw>, query: URLSearchParams) {
    await limit(request);
    if (param(query, 'bsso') !== CHALLENGE_QUERY) {
      throw new BssoError('invalid_request', 'Ask for a challenge with bsso=challenge.');
    }
    const setCookies: string[] = [];
    let browserId = readCookie(request.header('cookie'), BROWSER_COOKIE);
    if (browserId === undefined) {
      browserId = core.newBrowserId();
      setCookies.push(browserCookie(browserId));
    }
    const answer = await core.challenge({ browserId, domain: param(query, 'domain') });
    return jsonAnswer(200, answer, setCookies);
  }

  async function verifyDelivery(request: SiteRequest<Raw>): Promise<VerifiedDelivery> {
    await limit(request);
    // Step 1, request shape: before any cryptography or network call.
    checkContentType(request.header('content-type'));
    checkDeclaredLength(request.header('content-length'), limits.maxRequestBodyBytes);
    const form = parseDeliveryForm(await readBody(request.body(), limits.maxRequestBodyBytes));
    // Steps 2 to 6. A web-flow delivery is a cross-site POST: no SameSite=Strict cookie, so
    // the start page's SameSite=None copy of the browser id (protocol-spec.md#web-flow).
    const cookies = request.header('cookie');
    const browserId =
      readCookie(cookies, BROWSER_COOKIE) ?? readCookie(cookies, WEB_BROWSER_COOKIE);
    const { email } = await core.verify({ browserId, assertion: form.assertion });
    return { email, returnTo: form.returnTo };
  }

  /** POST <endpoint> (form: assertion, return_to): verification, then step 7. */
  async function deliver(request: SiteRequest<Raw>) {
    const { email, returnTo } = await verifyDelivery(request);
    await onSignIn?.(email, request.raw);
    // Step 7: the browser's old session ends; the new one never reuses its id.
    await core.sessions.destroy(readCookie(request.header('cookie'), SESSION_COOKIE));
    const session = await core.sessions.create(email);
    const setCookies = [sessionCookie(session.id, session.maxAgeSeconds)];
    if (readCookie(request.header('cookie'), WEB_BROWSER_COOKIE) !== undefined) {
      setCookies.push(clearWebBrowserCookie());
    }
    const answer: SignedInAnswer = {
      ...redirectAnswer(returnTo, setCookies),
      signedIn: { email, returnTo },
    };
    return answer;
  }

  function checkSameOrigin(request: SiteRequest<Raw>): void {
    const fetchSite = request.header('sec-fetch-site');
    // Fetch metadata when the browser sends it; else the Origin header. A page with
    // `Referrer-Policy: no-referrer` makes the browser send `Origin: null` on its own forms.
    const sameOrigin =
      fetchSite !== undefined
        ? fetchSite === 'same-origin'
        : request.header('origin') === core.endpoint.origin;
    if (!sameOrigin) throw new BssoError('origin_not_allowed', 'Sign out from the site itself.');
  }

  /** POST <endpoint>/signout from the site's own pages only. */
  async function signOut(request: SiteRequest<Raw>) {
    checkSameOrigin(request);
    await core.sessions.destroy(readCookie(request.header('cookie'), SESSION_COOKIE));
    return redirectAnswer('/', [clearSessionCookie()]);
  }

  const answerError = (err: unknown, request: SiteRequest<Raw>, json = false) => {
    logFailure(err);
    return errorAnswer(err, json || prefersJson(request.header('accept')));
  };

  return {
    core,
    paths,
    verifyDelivery,
    checkSameOrigin,
    errorAnswer: (err, request) => answerError(err, request),

    async handle(request) {
      const url = new URL(request.url, 'http://request.invalid');
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      if (url.pathname === paths.endpoint && url.searchParams.get('bsso') === START_QUERY) {
        // The web flow's start page: a page for people, so errors are pages too.
        if (method === 'GET') {
          return limit(request)
            .then(() => start.show(request, url.searchParams))
            .catch((err) => answerError(err, request));
        }
        if (method === 'POST') {
          return limit(request)
            .then(() => checkSameOrigin(request))
            .then(() => start.submit(request))
            .catch((err) => answerError(err, request));
        }
      }
      if (url.pathname === paths.endpoint && method === 'GET') {
        // A challenge is read by script: always JSON.
        return challenge(request, url.searchParams).catch((err) => answerError(err, request, true));
      }
      if (url.pathname === paths.endpoint && method === 'POST') {
        return deliver(request).catch((err) => answerError(err, request));
      }
      if (url.pathname === paths.signOut && method === 'POST') {
        return signOut(request).catch((err) => answerError(err, request));
      }
      if (url.pathname === paths.endpoint || url.pathname === paths.signOut) {
        return errorAnswer(new BssoError('method_not_allowed'), true);
      }
      return null;
    },

    async email(cookieHeader) {
      try {
        return (await core.sessions.get(readCookie(cookieHeader, SESSION_COOKIE)))?.email ?? null;
      } catch (err) {
        logFailure(err);
        return null;
      }
    },
  };
}

/** A query parameter as Express's query parser gives it: one value, several, or none. */
function param(query: URLSearchParams, name: string): string | string[] | undefined {
  const values = query.getAll(name);
  return values.length > 1 ? values : values[0];
}

// Codes only: a message could carry an origin, never an assertion, but keep logs minimal.
function logFailure(err: unknown): void {
  if (!(err instanceof BssoError)) console.error('bsso: unexpected error', (err as Error)?.name);
}
