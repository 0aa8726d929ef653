// BSSO on a plain node:http server, no framework: bssoNode runs the whole site flow (rate
// limit, verification, old session ended, new session, cookies, errors); this file only
// routes. Run: node --conditions=bsso-source examples/node-http.ts
import { createServer, type Server } from 'node:http';
import { type BssoNodeOptions, bssoNode } from '@bsso/relying-site/node';

export function createNodeHttpSite(options: BssoNodeOptions): Server {
  const bsso = bssoNode(options);
  return createServer(async (req, res) => {
    if (await bsso(req, res)) return; // the endpoint and its sign-out
    if (req.url === '/me') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ email: await bsso.email(req) }));
      return;
    }
    res.statusCode = 404;
    res.end('Not found');
  });
}

if (import.meta.main) {
  const endpoint = process.env.BSSO_SITE_ENDPOINT ?? 'http://localhost:8080/bsso';
  const server = createNodeHttpSite({ endpoint, discovery: { allowLocalhostHttp: true } });
  server.listen(Number(process.env.BSSO_PORT ?? 8080), '127.0.0.1');
}
