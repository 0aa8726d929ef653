// The request plumbing of a small JSON provider for tests (the relying site's stand-in, the
// e2e rogue provider): records each request, parses the JSON body, maps thrown errors to the
// protocol's error answer.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { toErrorResponse } from '../src/index.ts';

/** Answers [status, JSON body] for a request; a thrown BssoError becomes its error answer. */
export type JsonRoute = (method: string, url: URL, body: unknown) => Promise<[number, unknown]>;

/**
 * A listener for `route` with URLs resolved against `origin`. Pushes 'METHOD /path' to
 * `requests` for each request; a body that is not JSON reaches the route as undefined.
 */
export function jsonListener(
  origin: string,
  route: JsonRoute,
  requests: string[],
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    requests.push(`${req.method} ${url.pathname}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      } catch {
        body = undefined;
      }
      route(req.method ?? 'GET', url, body)
        .catch((err: unknown) => {
          const { status, body: errBody } = toErrorResponse(err);
          return [status, errBody] as [number, unknown];
        })
        .then(([status, answer]) => {
          const type = url.pathname.endsWith('webfinger')
            ? 'application/jrd+json'
            : 'application/json';
          res.writeHead(status, { 'content-type': type }).end(JSON.stringify(answer));
        });
    });
  };
}
