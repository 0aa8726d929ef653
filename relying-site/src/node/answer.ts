// Node's side of an answer: a node:http request as the core's SiteRequest, and the core's
// answer written to a ServerResponse. Shared by the node:http handler and the Express router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SiteAnswer } from '../core/answers.ts';
import type { SiteRequest } from '../core/endpoint.ts';

export function fromNode<Raw>(
  req: IncomingMessage,
  raw: Raw,
  url: string,
  clientAddress: string | undefined,
  body: () => AsyncIterable<Uint8Array | string> = () => req,
): SiteRequest<Raw> {
  return {
    method: req.method ?? 'GET',
    url,
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    clientAddress,
    body,
    raw,
  };
}

export function writeAnswer(res: ServerResponse, answer: SiteAnswer): void {
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (answer.setCookies.length > 0) res.setHeader('set-cookie', answer.setCookies);
  res.end(answer.body);
}
