// Passing a request on to the upstream app (mode proxy): method, path and query, body and
// headers as the client sent them, except
// - the address header (any case, any number of copies, `_` for `-`) is always removed,
//   and set again only from the verified session;
// - hop-by-hop headers and the ones a Connection header names are removed (RFC 9110 7.6.1),
//   after which the sidecar's own headers are added, so `Connection: X-BSSO-Email` can
//   neither drop the header the sidecar adds nor keep a forged one;
// - X-Forwarded-For/-Proto/-Host (and Forwarded) from the client are replaced by the
//   sidecar's, which believe a client's values only as far as trust proxy says.
// Bodies stream both ways (undici's pooled client, with its timeouts). An unreachable app
// is a 502 page, a silent one a 504, never a stack trace.
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { Agent, errors } from 'undici';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Node's server already answered 100-continue; the app gets the body as it streams.
  'expect',
]);
const FORWARDING = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
// A Connection header may not remove these: they are the request itself.
const NOT_REMOVABLE = new Set(['host', 'content-length', 'content-type']);

export interface Forwarder {
  (req: Request, res: Response, email: string | null): Promise<void>;
  close(): Promise<void>;
}

export function createForwarder(options: {
  upstream: URL;
  /** The address header's name. */
  header: string;
  trustProxy: number;
}): Forwarder {
  const { upstream, header, trustProxy } = options;
  const own = header.toLowerCase();
  const agent = new Agent({ connect: { timeout: 10_000 } });

  const forward = async (req: Request, res: Response, email: string | null) => {
    const path = req.originalUrl;
    // Origin-form only: an absolute URL or '*' as request target never reaches the app.
    if (!path.startsWith('/') || path.startsWith('//')) {
      sendPage(res, 400, 'Bad request', 'This request cannot be passed on.');
      return;
    }
    const headers = requestHeaders(req, own, trustProxy);
    if (email !== null) headers.push(header, email);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'];
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let answer: Awaited<ReturnType<Agent['request']>>;
    try {
      answer = await agent.request({
        origin: upstream.origin,
        path,
        method: req.method as 'GET',
        headers,
        body: hasBody ? req : null,
        signal: abort.signal,
      });
    } catch (err) {
      if (abort.signal.aborted || res.headersSent) return;
      const timeout = err instanceof errors.HeadersTimeoutError;
      if (!timeout) {
        const code = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.name;
        console.error(`bsso-proxy: the app is unreachable (${code})`);
      }
      sendPage(
        res,
        timeout ? 504 : 502,
        timeout ? 'Gateway timeout' : 'Bad gateway',
        timeout
          ? 'The application behind this site did not answer in time.'
          : 'The application behind this site is not answering. Try again in a moment.',
      );
      return;
    }
    res.statusCode = answer.statusCode;
    for (const [name, value] of responseHeaders(answer.headers)) res.setHeader(name, value);
    try {
      await pipeline(answer.body, res);
    } catch {
      // The app or the client went away mid-body: the client sees a cut response.
      res.destroy();
    }
  };
  return Object.assign(forward, { close: () => agent.close() });
}

/** The client's headers as the app may see them, flat [name, value, ...], original case. */
function requestHeaders(req: Request, own: string, trustProxy: number): string[] {
  const named = connectionNamed(req.headers.connection);
  const out: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    // X_BSSO_Email too: CGI-style apps read both spellings as HTTP_X_BSSO_EMAIL.
    if (lower.replaceAll('_', '-') === own || HOP_BY_HOP.has(lower) || FORWARDING.has(lower)) {
      continue;
    }
    if (named.has(lower) && !NOT_REMOVABLE.has(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  const peer = req.socket.remoteAddress ?? '';
  const chain = trustProxy > 0 ? req.headers['x-forwarded-for'] : undefined;
  out.push('X-Forwarded-For', chain ? `${chain}, ${peer}` : peer);
  // Express reads X-Forwarded-Proto/-Host only from trusted proxies (trust proxy).
  out.push('X-Forwarded-Proto', req.protocol);
  if (req.host) out.push('X-Forwarded-Host', req.host);
  return out;
}

function responseHeaders(
  headers: Record<string, string | string[] | undefined>,
): [string, string | string[]][] {
  const named = connectionNamed(headers.connection);
  const out: [string, string | string[]][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out.push([name, value]);
  }
  return out;
}

function connectionNamed(value: string | string[] | undefined): Set<string> {
  const names = new Set<string>();
  for (const line of [value ?? []].flat()) {
    for (const token of line.split(',')) {
      const name = token.trim().toLowerCase();
      if (name) names.add(name);
    }
  }
  return names;
}

/** A short page of our own: never the error, never a stack trace. */
export function sendPage(res: Response, status: number, title: string, text: string): void {
  res.status(status);
  res.set({ 'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} ${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`,
  );
}
