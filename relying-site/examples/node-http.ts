// BSSO on a plain node:http server, no framework: the core does the protocol, this file only
// maps HTTP to it. Run: node --conditions=bsso-source examples/node-http.ts
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BssoError, CHALLENGE_QUERY, limits, toErrorResponse } from '@bsso/protocol';
import {
  BROWSER_COOKIE,
  browserCookie,
  checkContentType,
  checkDeclaredLength,
  createSiteCore,
  parseDeliveryForm,
  readBody,
  readCookie,
  SESSION_COOKIE,
  type SiteCoreOptions,
  sessionCookie,
} from '../src/core/index.ts';

export function createNodeHttpSite(options: SiteCoreOptions): Server {
  const core = createSiteCore(options);
  const { pathname } = core.endpoint;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local.invalid');
    const cookies = req.headers.cookie;
    if (url.pathname === pathname && req.method === 'GET') {
      if (url.searchParams.get('bsso') !== CHALLENGE_QUERY) throw new BssoError('invalid_request');
      let browserId = readCookie(cookies, BROWSER_COOKIE);
      if (!browserId) {
        browserId = core.newBrowserId();
        res.setHeader('set-cookie', browserCookie(browserId));
      }
      const answer = await core.challenge({ browserId, domain: url.searchParams.get('domain') });
      send(res, 200, answer);
      return;
    }
    if (url.pathname === pathname && req.method === 'POST') {
      checkContentType(req.headers['content-type']);
      checkDeclaredLength(req.headers['content-length'], limits.maxRequestBodyBytes);
      const form = parseDeliveryForm(await readBody(req));
      const { email } = await core.verify({
        browserId: readCookie(cookies, BROWSER_COOKIE),
        assertion: form.assertion,
      });
      const session = await core.sessions.create(email);
      res.writeHead(303, {
        location: form.returnTo,
        'set-cookie': sessionCookie(session.id, session.maxAgeSeconds),
        'cache-control': 'no-store',
      });
      res.end();
      return;
    }
    if (url.pathname === '/me') {
      const session = await core.sessions.get(readCookie(cookies, SESSION_COOKIE));
      send(res, 200, { email: session?.email ?? null });
      return;
    }
    throw new BssoError('not_found');
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const { status, body } = toErrorResponse(err, { detail: false });
      send(res, status, body);
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

if (import.meta.main) {
  const endpoint = process.env.BSSO_SITE_ENDPOINT ?? 'http://localhost:8080/bsso';
  const server = createNodeHttpSite({ endpoint, discovery: { allowLocalhostHttp: true } });
  server.listen(Number(process.env.BSSO_PORT ?? 8080), '127.0.0.1');
}
