// URL rules shared by every party (protocol-spec.md#url-rules).
import { BssoError } from './errors.ts';

export interface UrlPolicy {
  /**
   * Development override: allow plain http for `localhost` and `*.localhost`.
   * Off by default; never on in production.
   */
  allowLocalhostHttp?: boolean;
}

export function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

/**
 * Parses an absolute URL and requires https (or http on localhost when the policy allows
 * it), no credentials and no fragment.
 */
export function parseSecureUrl(input: unknown, policy: UrlPolicy = {}): URL {
  if (typeof input !== 'string' || input.length > 2048) {
    throw new BssoError('insecure_url', 'A URL is missing or too long.');
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new BssoError('insecure_url', 'A URL is not a valid absolute URL.');
  }
  const httpAllowed = policy.allowLocalhostHttp === true && isLocalhostName(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpAllowed)) {
    throw new BssoError('insecure_url', `A URL must use https: ${url.origin}`);
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    throw new BssoError('insecure_url', 'A URL must not carry credentials or a fragment.');
  }
  return url;
}

/**
 * An origin given as configuration or input where a bare origin is required (a fallback
 * broker's issuer): a secure URL that serializes to exactly itself as an origin, or
 * `insecure_url` / `invalid_request`.
 */
export function parseBareOrigin(input: unknown, policy: UrlPolicy = {}): string {
  const url = parseSecureUrl(input, policy);
  if (input !== url.origin) {
    throw new BssoError('invalid_request', 'A bare origin is required (no path, no slash).');
  }
  return url.origin;
}

/** Requires `url` to be on `origin` exactly (scheme, host and port). */
export function requireSameOrigin(url: URL, origin: string): void {
  if (url.origin !== origin) {
    throw new BssoError('origin_mismatch', `${url.origin} is not ${origin}.`);
  }
}

/**
 * A site's BSSO endpoint as the extension accepts it from a page: absolute, secure and on
 * the page's own origin (protocol-spec.md#page-markup).
 */
export function parseEndpointForPage(href: unknown, pageUrl: string, policy: UrlPolicy = {}): URL {
  const page = parseSecureUrl(pageUrl, policy);
  const endpoint = parseSecureUrl(href, policy);
  requireSameOrigin(endpoint, page.origin);
  return endpoint;
}

const MAX_RETURN_PATH_LENGTH = 1024;
const RETURN_BASE = 'https://return-to.invalid';

/**
 * A same-origin path to return to after sign-in, or `/` (protocol-spec.md#url-rules, Return
 * paths). Anything that could leave the origin (absolute URLs, `//host`, backslashes, control
 * characters) falls back to `/`, and so does a path whose normalised form could: dot
 * segments, plain or percent-encoded, turn `/.//evil.example` into `//evil.example`.
 */
export function safeReturnPath(input: unknown): string {
  if (typeof input !== 'string' || !isPlainPath(input)) return '/';
  const url = new URL(input, RETURN_BASE);
  if (url.origin !== RETURN_BASE) return '/';
  const path = `${url.pathname}${url.search}`;
  // The answer itself must be a plain path that a browser resolves to exactly itself.
  if (!isPlainPath(path)) return '/';
  const again = new URL(path, RETURN_BASE);
  return again.origin === RETURN_BASE && `${again.pathname}${again.search}` === path ? path : '/';
}

/** One leading `/` (not `//`), no backslash or control character, at most 1024 characters. */
function isPlainPath(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= MAX_RETURN_PATH_LENGTH &&
    value.startsWith('/') &&
    !value.startsWith('//') &&
    !hasBackslashOrControl(value)
  );
}

function hasBackslashOrControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}
