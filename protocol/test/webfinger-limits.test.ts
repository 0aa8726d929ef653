// WebFinger under hostile answers (threats 4, 5, 30): size cap, time budget, at most three
// redirects, never to http or to a private address. A real HTTP server stands in for
// https://mail.example; the injected fetch routes the name to it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  createJrd,
  type FetchLike,
  lookupJrd,
  MAX_WEBFINGER_REDIRECTS,
  parseEmail,
} from '../src/index.ts';
import { rejectsCode } from './expect.ts';

const alice = parseEmail('alice@mail.example');
const JRD = JSON.stringify(createJrd(alice, 'https://mail.example/.well-known/bsso-provider'));

let mode = 'ok';
let hits: string[] = [];
let server: Server;
let port = 0;
const open = new Set<ServerResponse>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  hits.push(req.url ?? '');
  open.add(res);
  res.on('close', () => open.delete(res));
  const jrd = { 'content-type': 'application/jrd+json' };
  if (mode === 'ok') res.writeHead(200, jrd).end(JRD);
  else if (mode === 'redirect-http') {
    res.writeHead(302, { location: 'http://mail.example/.well-known/webfinger' }).end();
  } else if (mode === 'redirect-loop') res.writeHead(302, { location: '/again' }).end();
  else if (mode === 'redirect-private') {
    res.writeHead(302, { location: 'https://127.0.0.1/.well-known/webfinger' }).end();
  } else if (mode === 'redirect-once') {
    if (req.url === '/moved') res.writeHead(200, jrd).end(JRD);
    else res.writeHead(301, { location: '/moved' }).end();
  } else if (mode === 'huge') {
    res.writeHead(200, jrd);
    const chunk = ' '.repeat(16 * 1024);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  } else if (mode === 'drip') {
    res.writeHead(200, jrd);
    res.write('{');
    const timer = setInterval(() => res.write(' '), 20);
    res.on('close', () => clearInterval(timer));
  } else if (mode === 'html') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>');
  else if (mode === 'not-json') res.writeHead(200, jrd).end('{"subject":');
}

// https://<name>/… goes to the local server, like a resolver pointing the name at it.
const routed: FetchLike = (input, init) => {
  const url = new URL(input);
  return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, init);
};

describe('WebFinger limits', () => {
  before(async () => {
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function fails(m: string, timeoutMs = 2000): Promise<string[]> {
    mode = m;
    hits = [];
    await rejectsCode(lookupJrd(alice, { fetch: routed, timeoutMs }), 'discovery_failed');
    return hits;
  }

  it('reads a good answer, and follows one redirect on https', async () => {
    mode = 'ok';
    assert.deepEqual(await lookupJrd(alice, { fetch: routed }), JSON.parse(JRD));
    mode = 'redirect-once';
    hits = [];
    assert.deepEqual(await lookupJrd(alice, { fetch: routed }), JSON.parse(JRD));
    assert.equal(hits.length, 2);
  });

  it('never follows a redirect to http', async () => {
    assert.equal((await fails('redirect-http')).length, 1);
  });

  it('follows at most three redirects', async () => {
    assert.equal((await fails('redirect-loop')).length, MAX_WEBFINGER_REDIRECTS + 1);
  });

  it('refuses a redirect to a private address without the override', async () => {
    assert.equal((await fails('redirect-private')).length, 1);
  });

  it('caps a huge answer at 64 KiB and closes the connection', async () => {
    await fails('huge');
    await waitUntil(() => open.size === 0);
  });

  it('cuts a slow drip at the time budget', async () => {
    const started = performance.now();
    await fails('drip', 300);
    assert.ok(performance.now() - started < 2000, 'answered within the budget');
    await waitUntil(() => open.size === 0);
  });

  it('refuses answers that are not JSON', async () => {
    await fails('html');
    await fails('not-json');
  });
});

/** Waits for a condition the server reaches on its own (socket close), event loop driven. */
async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) assert.fail('condition not reached');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
