import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { mediaType, requestJson } from '../src/index.ts';
import { rejectsCode } from './expect.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const routes = new Map<string, Handler>();
const seen: { method: string | undefined; headers: IncomingMessage['headers']; body: string }[] =
  [];
let server: Server;
let base: string;

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json') {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

routes.set('/ok', (_req, res) => json(res, 200, { hello: 'world' }));
routes.set('/jrd', (_req, res) =>
  json(res, 200, { subject: 'acct:a@b.example' }, 'application/jrd+json; charset=utf-8'),
);
routes.set('/status-404', (_req, res) => json(res, 404, { error: 'not_found' }));
routes.set('/echo', (req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
  });
  req.on('end', () => {
    seen.push({ method: req.method, headers: req.headers, body });
    json(res, 200, { received: JSON.parse(body) as unknown });
  });
});
routes.set('/stream-big', (_req, res) => {
  // No content-length: the cap must hold while the body streams.
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('["');
  const chunk = 'x'.repeat(16 * 1024);
  let sent = 0;
  const push = () => {
    while (sent < 64 && res.write(chunk)) sent++;
    if (sent < 64) res.once('drain', push);
    else res.end('"]');
  };
  push();
});
routes.set('/declared-big', (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10_000_000 });
  res.write('[');
  // Never sends the rest: the declared length alone must be refused.
});
routes.set('/never', () => {
  // Never answers.
});
routes.set('/slow-drip', (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"a":');
  // The body never completes.
});
routes.set('/html', (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('{"looks":"like json"}');
});
routes.set('/no-type', (_req, res) => {
  res.writeHead(200);
  res.end('{}');
});
routes.set('/bad-json', (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"a":');
});
routes.set('/redirect', (_req, res) => {
  res.writeHead(302, { location: '/ok' });
  res.end();
});

before(async () => {
  server = createServer((req, res) => {
    const handler = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (handler) handler(req, res);
    else json(res, 404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('requestJson', () => {
  it('reads a JSON answer', async () => {
    assert.deepEqual(await requestJson(`${base}/ok`), { status: 200, body: { hello: 'world' } });
  });

  it('returns non-2xx statuses for the caller to judge', async () => {
    assert.deepEqual(await requestJson(`${base}/status-404`), {
      status: 404,
      body: { error: 'not_found' },
    });
  });

  it('accepts the listed media types, ignoring parameters', async () => {
    const answer = await requestJson(`${base}/jrd`, {
      accept: ['application/jrd+json', 'application/json'],
    });
    assert.equal(answer.status, 200);
  });

  it('POSTs a JSON body with accept and content type', async () => {
    const answer = await requestJson(`${base}/echo`, { method: 'POST', body: { site: 'x' } });
    assert.deepEqual(answer.body, { received: { site: 'x' } });
    const request = seen.at(-1);
    assert.equal(request?.method, 'POST');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers.accept, 'application/json');
  });

  it('enforces the size cap while streaming (threat 30)', async () => {
    await rejectsCode(requestJson(`${base}/stream-big`, { maxBytes: 64 * 1024 }), 'provider_error');
  });

  it('refuses a declared content-length above the cap', async () => {
    await rejectsCode(requestJson(`${base}/declared-big`, { timeoutMs: 5000 }), 'provider_error');
  });

  it('times out on a server that never answers (threat 33)', async () => {
    await rejectsCode(requestJson(`${base}/never`, { timeoutMs: 100 }), 'provider_timeout');
  });

  it('times out on a body that never ends (slow drip, threat 30)', async () => {
    await rejectsCode(requestJson(`${base}/slow-drip`, { timeoutMs: 100 }), 'provider_timeout');
  });

  it('refuses a wrong or missing content type', async () => {
    await rejectsCode(requestJson(`${base}/html`), 'provider_error');
    await rejectsCode(requestJson(`${base}/no-type`), 'provider_error');
    await rejectsCode(requestJson(`${base}/jrd`), 'provider_error');
  });

  it('refuses invalid JSON', async () => {
    await rejectsCode(requestJson(`${base}/bad-json`), 'provider_error');
  });

  it('does not follow redirects', async () => {
    await rejectsCode(requestJson(`${base}/redirect`), 'provider_unavailable');
  });

  it('reports a refused connection as provider_unavailable (threat 32)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await rejectsCode(requestJson(`http://127.0.0.1:${port}/ok`), 'provider_unavailable');
  });

  it('uses an injected fetch with redirect refused and credentials omitted', async () => {
    let init: RequestInit | undefined;
    const fetch = async (_url: string, given?: RequestInit) => {
      init = given;
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    };
    await requestJson('https://mail.example/x', { fetch });
    assert.equal(init?.redirect, 'error');
    assert.equal(init?.credentials, 'omit');
    assert.ok(init?.signal instanceof AbortSignal);
  });
});

describe('mediaType', () => {
  it('lower case, without parameters, empty when absent', () => {
    assert.equal(mediaType('Application/JSON; charset=utf-8'), 'application/json');
    assert.equal(
      mediaType(' application/x-www-form-urlencoded '),
      'application/x-www-form-urlencoded',
    );
    assert.equal(mediaType('text/html;'), 'text/html');
    assert.equal(mediaType(''), '');
    assert.equal(mediaType(null), '');
    assert.equal(mediaType(undefined), '');
  });
});
