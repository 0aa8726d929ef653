// The Fastify plugin: serves the site's BSSO endpoint and sets `request.bsso` on every request.
//   await app.register(bssoFastify, { endpoint: 'https://site.example/bsso' });
//   app.get('/members', (request) => `Hello ${request.bsso.email}`);
// fastify-plugin lifts the decoration to the whole app; the endpoint's routes live in a
// context of their own whose only body parser leaves the body to the core (form check,
// size cap), so a wrong body is refused with BSSO's own codes, not Fastify's.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  type BssoEndpointOptions,
  type BssoRequestState,
  createBssoEndpoint,
} from '../core/endpoint.ts';
import type { SiteCore } from '../core/site-core.ts';
import { fromNode } from '../node/answer.ts';

export interface BssoFastifyOptions extends BssoEndpointOptions<FastifyRequest> {}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in address of the request, set by the BSSO plugin. */
    bsso: BssoRequestState;
  }
  interface FastifyInstance {
    bssoCore: SiteCore;
  }
}

async function bssoPlugin(app: FastifyInstance, options: BssoFastifyOptions): Promise<void> {
  const endpoint = createBssoEndpoint<FastifyRequest>(options);
  app.decorate('bssoCore', endpoint.core);
  app.decorateRequest<BssoRequestState | null>('bsso', null);
  app.addHook('onRequest', async (request) => {
    request.bsso = { email: await endpoint.email(request.headers.cookie) };
  });
  app.addHook('onClose', () => endpoint.core.close());

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    // request.ip honours the app's trustProxy.
    const answer = await endpoint.handle(fromNode(request.raw, request, request.url, request.ip));
    if (!answer) return reply.callNotFound();
    reply.code(answer.status).headers(answer.headers);
    if (answer.setCookies.length > 0) reply.header('set-cookie', answer.setCookies);
    return reply.send(answer.body);
  };
  await app.register(async (routes) => {
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser('*', (_request, _payload, done) => done(null));
    routes.all(endpoint.paths.endpoint, serve);
    routes.all(endpoint.paths.signOut, serve);
  });
}

export const bssoFastify = fp(bssoPlugin, { fastify: '5.x', name: '@bsso/relying-site' });
