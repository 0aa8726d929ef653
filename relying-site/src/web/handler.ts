// The web-standard (Fetch API) handler: `(request: Request) => Promise<Response>`, for Hono,
// Next.js route handlers, Deno, Bun, workers, and Node through a Request bridge.
//   const bsso = bssoWeb({ endpoint: 'https://site.example/bsso' });
//   export const GET = bsso; export const POST = bsso;           // Next.js route handler
import { BssoError } from '@bsso/protocol';
import { errorAnswer, type SiteAnswer } from '../core/answers.ts';
import {
  type BssoEndpointOptions,
  createBssoEndpoint,
  type SiteRequest,
} from '../core/endpoint.ts';
import type { SiteCore } from '../core/site-core.ts';

export interface BssoWebOptions extends BssoEndpointOptions<Request> {
  /**
   * The client's address for the per-client limit, when the request alone tells it (a
   * header your platform's proxy sets). Default: none, unless the caller passes
   * `{ clientAddress }`; without either, all such requests count as one client.
   */
  clientAddress?: (request: Request) => string | undefined;
}

/** What the server knows beside the request (Next.js passes its route context here). */
export interface BssoWebContext {
  clientAddress?: string | undefined;
  [key: string]: unknown;
}

export interface BssoWebHandler {
  /** Answers the endpoint's paths; 404 not_found for any other path. */
  (request: Request, context?: BssoWebContext): Promise<Response>;
  /** The signed-in address of a request, or null. */
  email(request: Request): Promise<string | null>;
  readonly core: SiteCore;
}

export function bssoWeb(options: BssoWebOptions): BssoWebHandler {
  const { clientAddress = () => undefined, ...rest } = options;
  const endpoint = createBssoEndpoint<Request>(rest);
  const handler = async (request: Request, context?: BssoWebContext) => {
    const address =
      typeof context?.clientAddress === 'string' ? context.clientAddress : clientAddress(request);
    const answer = await endpoint.handle(fromWeb(request, address));
    return toResponse(answer ?? errorAnswer(new BssoError('not_found'), true));
  };
  return Object.assign(handler, {
    email: (request: Request) => endpoint.email(request.headers.get('cookie') ?? undefined),
    core: endpoint.core,
  });
}

function fromWeb(request: Request, clientAddress: string | undefined): SiteRequest<Request> {
  const url = new URL(request.url);
  return {
    method: request.method,
    url: `${url.pathname}${url.search}`,
    header: (name) => request.headers.get(name) ?? undefined,
    clientAddress,
    body: () => chunks(request.body),
    raw: request,
  };
}

export function toResponse(answer: SiteAnswer): Response {
  const headers = new Headers(answer.headers);
  for (const cookie of answer.setCookies) headers.append('set-cookie', cookie);
  return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers });
}

/** The body's chunks; stopping early (too large) cancels the stream. */
async function* chunks(stream: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!stream) return;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
