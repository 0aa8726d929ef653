// The bsso-proxy sidecar: BSSO for a site in any language. The library's own bsso() router
// serves the endpoint (challenge, delivery, sign-out) and keeps the sessions; then
// - mode 'proxy': every other request goes on to the app with the verified address in the
//   address header (absent when nobody is signed in), a client's own copies always removed;
// - mode 'auth-request': nginx's auth_request asks GET <endpoint>/auth (200 with the
//   address header, 401 when nobody is signed in) or <endpoint>/auth/optional (always 200,
//   the header only when signed in); nginx passes the header on to the app.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type BssoOptions, bsso } from '../express/router.ts';
import type { ProxyConfig } from './config.ts';
import { createForwarder, sendPage } from './forward.ts';

export interface BssoProxy {
  server: Server;
  /** The URL it listens on (the port the OS picked for port 0). */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the sidecar. `site` adds options of the site library (tests give the outbound
 * network and the clock); the configuration's endpoint and stores win.
 */
export async function startBssoProxy(
  config: ProxyConfig,
  site: Partial<BssoOptions> = {},
): Promise<BssoProxy> {
  const router = bsso({
    ...site,
    endpoint: config.endpoint,
    ...(config.redis
      ? {
          stores: {
            redisUrl: config.redis.url,
            ...(config.redis.prefix ? { redisPrefix: config.redis.prefix } : {}),
          },
        }
      : {}),
  });
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // req.ip (the rate limit's client) and req.protocol/req.host believe X-Forwarded-* only
  // from this many proxies in front.
  app.set('trust proxy', config.trustProxy);
  app.use(router);

  const forwarder =
    config.mode === 'proxy' && config.upstream
      ? createForwarder({
          upstream: config.upstream,
          header: config.header,
          trustProxy: config.trustProxy,
        })
      : undefined;
  if (forwarder) {
    app.use((req: Request, res: Response, next: NextFunction) => {
      forwarder(req, res, req.bsso.email).catch(next);
    });
  } else {
    const base = router.core.endpoint.pathname;
    const auth = (optional: boolean) => (req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store');
      if (req.bsso.email !== null) res.set(config.header, req.bsso.email);
      res.status(req.bsso.email !== null || optional ? 200 : 401).end();
    };
    app.get(`${base}/auth`, auth(false));
    app.get(`${base}/auth/optional`, auth(true));
    app.use((_req: Request, res: Response) => {
      sendPage(res, 404, 'Not found', 'The BSSO sidecar serves only the BSSO endpoint.');
    });
  }
  // Last: anything unexpected is a plain 500 page, never the error or a stack trace.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    console.error('bsso-proxy: unexpected error', (err as Error)?.name);
    if (res.headersSent) res.destroy();
    else sendPage(res, 500, 'Server error', 'Something went wrong. Try again in a moment.');
  });

  const server = config.tls
    ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, app)
    : createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `${config.tls ? 'https' : 'http'}://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await forwarder?.close();
      await router.core.close();
    },
  };
}
