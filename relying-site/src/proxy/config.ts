// The bsso-proxy sidecar's configuration: from flags and environment variables (a flag wins),
// validated once at start. Every problem is reported at once, each as one clear line.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveEndpoint } from '../core/options.ts';

export type ProxyMode = 'proxy' | 'auth-request';

export interface ProxyConfig {
  /** 'proxy': reverse proxy in front of `upstream`; 'auth-request': nginx's auth_request. */
  mode: ProxyMode;
  /** The upstream app's origin (mode 'proxy' only). */
  upstream?: URL;
  /** The site's BSSO endpoint, an absolute https URL (the audience of assertions). */
  endpoint: string;
  host: string;
  port: number;
  /** PEM text; absent: plain http (behind a TLS-terminating proxy). */
  tls?: { cert: string; key: string };
  /** The header carrying the verified address to the upstream. */
  header: string;
  redis?: { url: string; prefix?: string };
  /** Proxy hops in front of the sidecar whose X-Forwarded-* headers are believed. */
  trustProxy: number;
}

/** A configuration the sidecar refuses; `problems` are the lines to print. */
export class ProxyConfigError extends Error {
  readonly code = 'invalid_config';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ProxyConfigError';
    this.problems = problems;
  }
}

/** Asked for --help: print USAGE. */
export class ProxyHelpRequested extends Error {}

export const DEFAULT_HEADER = 'X-BSSO-Email';
export const DEFAULT_PORT = 8081;

export const USAGE = `Usage: bsso-proxy [options]   (each option also from its environment variable)

  --mode proxy|auth-request  BSSO_PROXY_MODE     proxy (default): a reverse proxy in front of
                                                 the app; auth-request: for nginx's auth_request
  --upstream URL             BSSO_PROXY_UPSTREAM the app's origin, e.g. http://127.0.0.1:8080
                                                 (mode proxy)
  --endpoint URL             BSSO_SITE_ENDPOINT  the site's BSSO endpoint, e.g.
                                                 https://site.example/bsso (required)
  --host HOST                BSSO_PROXY_HOST     listen address (default 127.0.0.1)
  --port PORT                BSSO_PROXY_PORT     listen port (default ${DEFAULT_PORT}; 0: any free port)
  --tls-cert FILE            BSSO_TLS_CERT       PEM certificate chain: serve https
  --tls-key FILE             BSSO_TLS_KEY        its PEM private key (both or neither; without
                                                 them plain http, behind a TLS-terminating proxy)
  --header NAME              BSSO_PROXY_HEADER   the verified address's header (default ${DEFAULT_HEADER})
  --redis-url URL            REDIS_URL           shared stores (sessions, nonces, caches) in Redis
  --redis-prefix PREFIX      BSSO_REDIS_PREFIX   key prefix in Redis (default bsso-site:)
  --trust-proxy HOPS         BSSO_TRUST_PROXY    proxies in front whose X-Forwarded-* count
                                                 (default 0: the sidecar faces clients)
  --help`;

const OPTIONS = {
  mode: { type: 'string', env: 'BSSO_PROXY_MODE' },
  upstream: { type: 'string', env: 'BSSO_PROXY_UPSTREAM' },
  endpoint: { type: 'string', env: 'BSSO_SITE_ENDPOINT' },
  host: { type: 'string', env: 'BSSO_PROXY_HOST' },
  port: { type: 'string', env: 'BSSO_PROXY_PORT' },
  'tls-cert': { type: 'string', env: 'BSSO_TLS_CERT' },
  'tls-key': { type: 'string', env: 'BSSO_TLS_KEY' },
  header: { type: 'string', env: 'BSSO_PROXY_HEADER' },
  'redis-url': { type: 'string', env: 'REDIS_URL' },
  'redis-prefix': { type: 'string', env: 'BSSO_REDIS_PREFIX' },
  'trust-proxy': { type: 'string', env: 'BSSO_TRUST_PROXY' },
} as const;
type Name = keyof typeof OPTIONS;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Names the sidecar or HTTP itself owns: the address must travel in a header of its own.
const RESERVED_HEADERS = new Set([
  'host',
  'cookie',
  'authorization',
  'connection',
  'content-length',
  'content-type',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** Reads and checks the configuration: flags (argv without node and the script), then env. */
export function loadProxyConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ProxyConfig {
  let flags: Partial<Record<Name | 'help', string | boolean>>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...OPTIONS, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    flags = parsed.values;
  } catch (err) {
    throw new ProxyConfigError([(err as Error).message, 'Run bsso-proxy --help for the options.']);
  }
  if (flags.help === true) throw new ProxyHelpRequested('help');
  const value = (name: Name): string | undefined => {
    const flag = flags[name];
    const v = typeof flag === 'string' ? flag : env[OPTIONS[name].env];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const label = (name: Name) => `--${name} (${OPTIONS[name].env})`;
  const problems: string[] = [];
  const check = <T>(name: Name, parse: (v: string) => T): T | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    try {
      return parse(v);
    } catch (err) {
      problems.push(`${label(name)}: ${(err as Error).message}`);
      return undefined;
    }
  };

  const mode = check('mode', (v) => {
    if (v !== 'proxy' && v !== 'auth-request') throw new Error('must be proxy or auth-request.');
    return v as ProxyMode;
  });
  const effectiveMode: ProxyMode = mode ?? 'proxy';

  const endpoint = check('endpoint', (v) => resolveEndpoint(v, false).href);
  if (value('endpoint') === undefined) {
    problems.push(`${label('endpoint')} is required, e.g. https://site.example/bsso.`);
  }

  const upstream = check('upstream', parseUpstream);
  if (effectiveMode === 'proxy' && value('upstream') === undefined) {
    problems.push(`${label('upstream')} is required in mode proxy, e.g. http://127.0.0.1:8080.`);
  }
  if (effectiveMode === 'auth-request' && value('upstream') !== undefined) {
    problems.push(`${label('upstream')}: not used in mode auth-request (nginx proxies the app).`);
  }

  const host = value('host') ?? '127.0.0.1';
  const port =
    check('port', (v) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) throw new Error('must be a port number, 0 to 65535.');
      return n;
    }) ?? DEFAULT_PORT;

  const certFile = value('tls-cert');
  const keyFile = value('tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push(`${label('tls-cert')} and ${label('tls-key')}: give both, or neither.`);
  }
  const cert = check('tls-cert', readPem);
  const key = check('tls-key', readPem);

  const header =
    check('header', (v) => {
      if (!TOKEN.test(v)) throw new Error('must be a header name (letters, digits, -).');
      if (RESERVED_HEADERS.has(v.toLowerCase())) throw new Error(`${v} is HTTP's own header.`);
      return v;
    }) ?? DEFAULT_HEADER;

  const redisUrl = check('redis-url', (v) => {
    const url = new URL(v);
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new Error('must be a redis:// or rediss:// URL.');
    }
    return v;
  });
  const redisPrefix = value('redis-prefix');

  const trustProxy =
    check('trust-proxy', (v) => {
      if (!/^\d+$/.test(v) || Number(v) > 10) {
        throw new Error('must be the number of proxies in front, 0 to 10.');
      }
      return Number(v);
    }) ?? 0;

  if (problems.length > 0 || endpoint === undefined) throw new ProxyConfigError(problems);
  return {
    mode: effectiveMode,
    ...(upstream ? { upstream } : {}),
    endpoint,
    host,
    port,
    ...(cert !== undefined && key !== undefined ? { tls: { cert, key } } : {}),
    header,
    ...(redisUrl
      ? { redis: { url: redisUrl, ...(redisPrefix ? { prefix: redisPrefix } : {}) } }
      : {}),
    trustProxy,
  };
}

/** The app's origin: http or https, no credentials, no path beyond '/', no query. */
function parseUpstream(v: string): URL {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Error(`${v} is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('must be an http:// or https:// URL.');
  }
  if (url.username || url.password) throw new Error('must not carry credentials.');
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new Error('must be an origin only, without path, query or fragment.');
  }
  return url;
}

function readPem(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  if (!text.includes('-----BEGIN')) throw new Error(`${file} is not a PEM file.`);
  return text;
}
