// The web sign-in request: a browser sent by the site's start page to the provider's
// `web_endpoint`, for a sign-in without the extension (protocol-spec.md#web-flow). Its answer
// is the delivery form of protocol-spec.md#delivery, POSTed by the provider's page to the
// audience only.
import { LOGIN_HINT_PARAM, limits, START_QUERY } from './constants.ts';
import { parseEmail } from './email.ts';
import { BssoError } from './errors.ts';
import { TOKEN_PATTERN } from './random.ts';
import { parseSecureUrl, safeReturnPath, type UrlPolicy } from './urls.ts';

/** The query parameters of a web sign-in request. */
export interface WebSignInRequest {
  /** The site's endpoint URL: the assertion's audience and the only place it is POSTed. */
  audience: string;
  /** A challenge nonce the site bound to this browser. */
  nonce: string;
  /** The address the user typed at the site, normalized. */
  login_hint: string;
  /** OPTIONAL. The site's association handle, as in a challenge. */
  handle?: string;
  /** OPTIONAL. The site path to come back to, echoed in the delivery form. */
  return_to?: string;
}

const PARAMS = ['audience', 'nonce', LOGIN_HINT_PARAM, 'handle', 'return_to'] as const;
const REQUIRED = new Set<string>(['audience', 'nonce', LOGIN_HINT_PARAM]);
const MAX_PARAM_LENGTH = 2048;

/**
 * The audience of a web sign-in: a secure absolute URL (protocol-spec.md#url-rules) without a
 * query, in its serialized form. A query or a fragment is refused (`insecure_url`): the
 * endpoint is a form's action, exactly.
 */
export function parseWebAudience(input: unknown, policy: UrlPolicy = {}): URL {
  const url = parseSecureUrl(input, policy);
  if (url.search !== '' || (typeof input === 'string' && input.includes('?'))) {
    throw new BssoError('insecure_url', 'The audience must not carry a query.');
  }
  if (url.href !== input) {
    throw new BssoError('insecure_url', 'The audience must be given in its serialized form.');
  }
  return url;
}

/** The URL the site's start page redirects the browser to. */
export function webSignInUrl(webEndpoint: string, request: WebSignInRequest): string {
  const url = new URL(webEndpoint);
  for (const name of PARAMS) {
    const value = request[name];
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.href;
}

/** The site's start page for an endpoint: `<endpoint>?bsso=start`. */
export function startPageUrl(endpoint: URL | string): string {
  const url = new URL(endpoint);
  url.searchParams.set('bsso', START_QUERY);
  return url.href;
}

/**
 * Validates the query of a web sign-in request, as strictly as a request body: every known
 * parameter at most once, no unknown one (`invalid_request`), a token nonce and handle, a
 * valid address (`invalid_email`), an audience per `parseWebAudience` (`insecure_url`) and a
 * return path that `safeReturnPath` keeps as it is (`invalid_request`).
 */
export function parseWebSignInRequest(
  query: URLSearchParams,
  policy: UrlPolicy = {},
): WebSignInRequest {
  const values = new Map<string, string>();
  for (const [name, value] of query) {
    if (!(PARAMS as readonly string[]).includes(name) || values.has(name)) {
      throw new BssoError(
        'invalid_request',
        'The web sign-in request has unknown or repeated parameters.',
      );
    }
    if (value.length > MAX_PARAM_LENGTH) {
      throw new BssoError('invalid_request', 'A web sign-in parameter is too long.');
    }
    values.set(name, value);
  }
  for (const name of REQUIRED) {
    if (!values.get(name)) {
      throw new BssoError('invalid_request', 'The web sign-in request misses a parameter.');
    }
  }
  const nonce = values.get('nonce') ?? '';
  const handle = values.get('handle');
  if (!TOKEN_PATTERN.test(nonce) || (handle !== undefined && !TOKEN_PATTERN.test(handle))) {
    throw new BssoError('invalid_request', 'The nonce or handle is not a token.');
  }
  const hint = values.get(LOGIN_HINT_PARAM) ?? '';
  if (hint.length > limits.maxEmailLength) throw new BssoError('invalid_email');
  const email = parseEmail(hint).address;
  const audience = parseWebAudience(values.get('audience'), policy).href;
  const returnTo = values.get('return_to');
  if (returnTo !== undefined && safeReturnPath(returnTo) !== returnTo) {
    throw new BssoError('invalid_request', 'The return path is not a plain path of the site.');
  }
  const request: WebSignInRequest = { audience, nonce, login_hint: email };
  if (handle !== undefined) request.handle = handle;
  if (returnTo !== undefined) request.return_to = returnTo;
  return request;
}
