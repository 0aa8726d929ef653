// BSSO on a plain node:http (or node:https) server, no framework:
//   const site = bssoNode({ endpoint: 'https://site.example/bsso' });
//   createServer(async (req, res) => { if (await site(req, res)) return; ... });
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BssoEndpointOptions, createBssoEndpoint } from '../core/endpoint.ts';
import type { SiteCore } from '../core/site-core.ts';
import { fromNode, writeAnswer } from './answer.ts';

export interface BssoNodeOptions extends BssoEndpointOptions<IncomingMessage> {
  /**
   * The client's address for the per-client limit. Default: the socket's peer address;
   * behind a reverse proxy, read the address it forwards (and only from it).
   */
  clientAddress?: (req: IncomingMessage) => string | undefined;
}

export interface BssoNodeHandler {
  /** Serves the endpoint's paths; false (nothing sent) for any other path. */
  (req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** The signed-in address of a request, or null. */
  email(req: IncomingMessage): Promise<string | null>;
  readonly core: SiteCore;
}

export function bssoNode(options: BssoNodeOptions): BssoNodeHandler {
  const { clientAddress = (req) => req.socket.remoteAddress, ...rest } = options;
  const endpoint = createBssoEndpoint<IncomingMessage>(rest);
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const answer = await endpoint.handle(fromNode(req, req, req.url ?? '/', clientAddress(req)));
    if (!answer) return false;
    writeAnswer(res, answer);
    return true;
  };
  return Object.assign(handler, {
    email: (req: IncomingMessage) => endpoint.email(req.headers.cookie),
    core: endpoint.core,
  });
}
