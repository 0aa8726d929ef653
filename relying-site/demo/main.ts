// Starts the demo site. The only place that reads the environment:
//   BSSO_SITE_ENDPOINT  the endpoint URL, e.g. https://site.test/bsso (required)
//   BSSO_PORT           port to listen on (default 0: any free port, printed)
//   BSSO_TLS_CERT/KEY   PEM files (or PEM text) to serve https; plain http without them
//   BSSO_DEV_HOSTS      development only: 'mail.test=41002,...' maps names to loopback ports
//   BSSO_DEV_CA         development only: PEM file (or text) of a test CA to trust
//   BSSO_DEV_ALLOW_LOCALHOST_HTTP=1  development only: http endpoints on localhost
//   REDIS_URL           shared stores for several instances (nonces, sessions, caches)
//   BSSO_REDIS_PREFIX   key prefix in Redis (default 'bsso-site:')
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseHostMap, testNetwork } from '@bsso/protocol/testing';
import { createDemoSite } from './app.ts';

const pem = (value: string) => (value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8'));
const env = process.env;

const endpoint = env.BSSO_SITE_ENDPOINT;
if (!endpoint) throw new Error('BSSO_SITE_ENDPOINT is required');
// Development only: the mapped names go to loopback (on the site's explicit allow-list),
// trusting BSSO_DEV_CA too.
const devNetwork = env.BSSO_DEV_HOSTS
  ? testNetwork({
      hosts: parseHostMap(env.BSSO_DEV_HOSTS),
      ...(env.BSSO_DEV_CA ? { ca: pem(env.BSSO_DEV_CA) } : {}),
    })
  : undefined;
const app = createDemoSite({
  endpoint,
  ...(devNetwork ? { outbound: { network: devNetwork } } : {}),
  discovery: { allowLocalhostHttp: env.BSSO_DEV_ALLOW_LOCALHOST_HTTP === '1' },
  onSignIn: (email) => console.log('signed in:', email),
  ...(env.REDIS_URL
    ? {
        stores: {
          redisUrl: env.REDIS_URL,
          ...(env.BSSO_REDIS_PREFIX ? { redisPrefix: env.BSSO_REDIS_PREFIX } : {}),
        },
      }
    : {}),
});
const server =
  env.BSSO_TLS_CERT && env.BSSO_TLS_KEY
    ? createHttpsServer({ cert: pem(env.BSSO_TLS_CERT), key: pem(env.BSSO_TLS_KEY) }, app)
    : createHttpServer(app);
server.listen(Number(env.BSSO_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`BSSO demo site for ${endpoint} listening on 127.0.0.1:${port}`);
});
