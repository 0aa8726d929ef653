// Each adapter as a real app on an OS-picked loopback port, serving the BSSO endpoint and
// `GET /me` ({ email } of the signed-in user, read the adapter's own way). The shared suite
// (adapter-suite.ts) runs the same cases against every one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import express from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import { type Context, Hono } from 'hono';
import { Passport } from 'passport';
import { createNodeHttpSite } from '../../examples/node-http.ts';
import type { BssoEndpointOptions } from '../../src/core/endpoint.ts';
import { bssoFastify } from '../../src/fastify/plugin.ts';
import { bsso } from '../../src/index.ts';
import { BssoStrategy, bssoRoutes } from '../../src/passport/strategy.ts';
import { bssoWeb } from '../../src/web/handler.ts';

export type SiteOptions = Omit<BssoEndpointOptions, 'onSignIn'> & {
  /** Passed on by every adapter but Passport, whose verify callback takes its place. */
  onSignIn?: (email: string, req: unknown) => Promise<void> | void;
};

export interface AdapterSite {
  url: string;
  close(): Promise<void>;
}

export interface Adapter {
  name: string;
  start(options: SiteOptions): Promise<AdapterSite>;
  /** The cookie that carries the signed-in session, and the attributes it must have. */
  session: { cookie: string; attributes: string[] };
  /** The status of a successful delivery: BSSO's 303, or what the framework sends. */
  successStatus: number;
  /** How a rejected delivery is seen: BSSO's error answer, or a failure redirect. */
  rejection: 'answer' | { failureRedirect: string };
}

const BSSO_SESSION = {
  cookie: '__Host-bsso_session',
  attributes: ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax'],
};

function listening(server: Server): Promise<AdapterSite> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: async () => {
          server.closeAllConnections();
          await new Promise((done) => server.close(done));
        },
      }),
    );
  });
}

export const expressAdapter: Adapter = {
  name: 'Express',
  session: BSSO_SESSION,
  successStatus: 303,
  rejection: 'answer',
  start(options) {
    const app = express();
    app.use(bsso(options));
    app.get('/me', (req, res) => {
      res.json({ email: req.bsso.email });
    });
    return listening(createServer(app));
  },
};

export const nodeHttpAdapter: Adapter = {
  name: 'node:http (examples/node-http.ts)',
  session: BSSO_SESSION,
  successStatus: 303,
  rejection: 'answer',
  start: (options) => listening(createNodeHttpSite(options)),
};

/** The web-standard handler as-is on Node's own server, through Hono's Node bridge. */
export const webOnNodeAdapter: Adapter = {
  name: 'web-standard handler on node:http',
  session: BSSO_SESSION,
  successStatus: 303,
  rejection: 'answer',
  start(options) {
    const handler = bssoWeb(options);
    const server = createAdaptorServer({
      fetch: async (request: Request, env: HttpBindings | Http2Bindings) => {
        if (new URL(request.url).pathname === '/me') {
          return Response.json({ email: await handler.email(request) });
        }
        return handler(request, { clientAddress: env.incoming.socket.remoteAddress });
      },
    });
    return listening(server as Server);
  },
};

export const honoAdapter: Adapter = {
  name: 'Hono',
  session: BSSO_SESSION,
  successStatus: 303,
  rejection: 'answer',
  start(options) {
    const handler = bssoWeb(options);
    const app = new Hono();
    const serve = (c: Context) =>
      handler(c.req.raw, { clientAddress: getConnInfo(c).remote.address });
    app.all('/bsso', serve);
    app.all('/bsso/signout', serve);
    app.get('/me', async (c) => c.json({ email: await handler.email(c.req.raw) }));
    return listening(createAdaptorServer({ fetch: app.fetch }) as Server);
  },
};

export const fastifyAdapter: Adapter = {
  name: 'Fastify',
  session: BSSO_SESSION,
  successStatus: 303,
  rejection: 'answer',
  async start(options) {
    const app = Fastify();
    await app.register(bssoFastify, options);
    app.get('/me', async (request) => ({ email: request.bsso.email }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

/** Passport with express-session; the cookie is not Secure only because tests speak http. */
export const passportAdapter: Adapter = {
  name: 'Passport',
  session: { cookie: 'connect.sid', attributes: ['Path=/', 'HttpOnly', 'SameSite=Lax'] },
  successStatus: 302,
  rejection: { failureRedirect: '/signin-failed' },
  start(options) {
    const passport = new Passport();
    passport.serializeUser((user, done) => done(null, user));
    passport.deserializeUser((user: Express.User, done) => done(null, user));
    const strategy = new BssoStrategy(options, (email, done) => done(null, { email }));
    passport.use(strategy);
    const app = express();
    app.use(
      session({
        secret: 'test secret',
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax' },
      }),
    );
    app.use(passport.session());
    app.use(bssoRoutes(strategy));
    app.post(
      '/bsso',
      passport.authenticate('bsso', {
        failureRedirect: '/signin-failed',
        failureMessage: true,
        successReturnToOrRedirect: '/',
        keepSessionInfo: true,
      }),
    );
    app.get('/me', (req, res) => {
      res.json({ email: (req.user as { email?: string } | undefined)?.email ?? null });
    });
    app.get('/signin-failed', (req, res) => {
      res.json({ messages: (req.session as { messages?: string[] }).messages ?? [] });
    });
    return listening(createServer(app));
  },
};

export const adapters: Adapter[] = [
  expressAdapter,
  nodeHttpAdapter,
  webOnNodeAdapter,
  honoAdapter,
  fastifyAdapter,
  passportAdapter,
];
