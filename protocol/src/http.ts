// Bounded JSON over HTTP, shared by the extension and the site (protocol-spec.md#transport).
import { limits } from './constants.ts';
import { BssoError } from './errors.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface JsonRequestOptions {
  fetch?: FetchLike;
  /** Whole-exchange budget in milliseconds: connect, headers and body. */
  timeoutMs?: number;
  maxBytes?: number;
  method?: 'GET' | 'POST';
  body?: unknown;
  credentials?: RequestCredentials;
  /** Media types accepted for the answer; the first is sent in `Accept`. */
  accept?: readonly string[];
  /**
   * 'error' (default): a redirect is a failure. 'manual': a 3xx answer is returned with its
   * `location` and no body, for the caller to check (WebFinger only).
   */
  redirect?: 'error' | 'manual';
  /**
   * Statuses whose answer is returned with no body, whatever its type (its body is not read):
   * WebFinger's 404, which a web server often sends as an HTML page.
   */
  bodyless?: readonly number[];
}

/**
 * The media type of a Content-Type header: lower case, parameters (`; charset=…`) dropped,
 * '' when there is none. Every party compares request and answer types through this.
 */
export function mediaType(header: string | null | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export interface JsonResponse {
  status: number;
  body: unknown;
  /** The Location header of a 3xx answer (with `redirect: 'manual'`). */
  location?: string;
}

/**
 * One JSON exchange with hard limits: no redirects, a time budget covering the body, a size
 * cap enforced while reading, and a JSON content type. Failures become `provider_timeout`,
 * `provider_unavailable` or `provider_error`; the caller decides what a status means.
 */
export async function requestJson(
  url: string,
  options: JsonRequestOptions = {},
): Promise<JsonResponse> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const maxBytes = options.maxBytes ?? limits.maxDocumentBytes;
  const accept = options.accept ?? ['application/json'];
  const signal = AbortSignal.timeout(options.timeoutMs ?? 5000);
  const headers: Record<string, string> = { accept: accept.join(', ') };
  const init: RequestInit = {
    method: options.method ?? 'GET',
    redirect: options.redirect ?? 'error',
    signal,
    headers,
    credentials: options.credentials ?? 'omit',
    cache: 'no-store',
  };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await doFetch(url, init);
  } catch (err) {
    if (signal.aborted) throw new BssoError('provider_timeout', `No answer from ${originOf(url)}.`);
    throw new BssoError('provider_unavailable', `Could not reach ${originOf(url)}.`, {
      cause: err,
    });
  }
  try {
    if (options.redirect === 'manual' && response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      return location === null
        ? { status: response.status, body: undefined }
        : { status: response.status, body: undefined, location };
    }
    if (options.bodyless?.includes(response.status)) {
      await response.body?.cancel();
      return { status: response.status, body: undefined };
    }
    const text = await readCapped(response, maxBytes);
    const type = mediaType(response.headers.get('content-type'));
    if (!type || !accept.includes(type)) {
      throw new BssoError('provider_error', `${originOf(url)} answered with ${type || 'no type'}.`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new BssoError('provider_error', `${originOf(url)} answered with invalid JSON.`);
    }
    return { status: response.status, body };
  } catch (err) {
    if (err instanceof BssoError) throw err;
    if (signal.aborted) throw new BssoError('provider_timeout', `No answer from ${originOf(url)}.`);
    throw new BssoError('provider_unavailable', `Reading from ${originOf(url)} failed.`, {
      cause: err,
    });
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new BssoError('provider_error', 'The answer is too large.');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BssoError('provider_error', 'The answer is too large.');
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(all);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the server';
  }
}
