// Test support shared by every workspace ('@bsso/protocol/testing', source only, never
// published): throwaway PKI, fetch routing for test names, Redis helpers, a JSON provider
// listener, a cookie jar, and skips that fail under CI.
export { isCi, skipUnlessCi } from './ci.ts';
export { CookieJar, type CookieJarOptions } from './cookies.ts';
export { type Dovecot, type DovecotOptions, dovecotMissing, startDovecot } from './dovecot.ts';
export { createTestIdp, type TestIdp, type TestIdpOptions } from './idp.ts';
export { type JsonRoute, jsonListener } from './json-listener.ts';
export {
  createRoutingAgent,
  hostsOf,
  parseHostMap,
  type RouteFetchOptions,
  routeFetch,
  testNetwork,
} from './network.ts';
export {
  NGINX,
  type Nginx,
  nginxMissing,
  requireNginx,
  startNginx,
  startNginxHttp,
} from './nginx.ts';
export { hasOpenssl, makeTestPki, type TestPki } from './pki.ts';
export { canConnect, freePort, waitUntil } from './ports.ts';
export {
  dropRedisPrefix,
  REDIS_URL,
  type TcpProxy,
  tcpProxy,
  uniqueName,
  uniquePrefix,
} from './services.ts';
export { type Slapd, type SlapdOptions, slapdMissing, startSlapd } from './slapd.ts';
export { type ReceivedMail, startTestMailServer, type TestMailServer } from './smtp.ts';
