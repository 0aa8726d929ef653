// "Names no provider" (protocol-spec.md#fallback): only a WebFinger 404 or a JRD about the
// address without the BSSO link is `no_provider`; every transient or broken answer (5xx, 429,
// a timeout, a TLS failure, a refused connection, a malformed JRD) stays `discovery_failed`,
// so it can never hand an address to a fallback broker (threat 46). A real HTTP server stands
// in for https://mail.example; the injected fetch routes the name to it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  BssoError,
  createJrd,
  createProviderConfig,
  discoverProvider,
  type FetchLike,
  parseEmail,
  WEBFINGER_REL,
} from '../src/index.ts';

const alice = parseEmail('alice@mail.example');
const JRD_TYPE = { 'content-type': 'application/jrd+json' };

let mode = 'ok';
let hits: string[] = [];
let server: Server;
let port = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  hits.push(req.url ?? '');
  if (req.url === '/.well-known/bsso-provider') {
    const config = createProviderConfig('https://mail.example', {
      assertion_endpoint: '/a',
      association_endpoint: '/b',
      verification_endpoint: '/c',
      signin_endpoint: '/d',
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
    return;
  }
  const jrd = (body: unknown) => res.writeHead(200, JRD_TYPE).end(JSON.stringify(body));
  switch (mode) {
    case '404-json':
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    case '404-html':
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    case '404-after-redirect':
      if (req.url?.startsWith('/moved')) res.writeHead(404).end();
      else res.writeHead(301, { location: '/moved' }).end();
      return;
    case 'no-links':
      jrd({ subject: 'acct:alice@mail.example' });
      return;
    case 'other-links':
      jrd({ subject: 'acct:alice@mail.example', links: [{ rel: 'x', href: 'https://x.test' }] });
      return;
    case 'link-without-href':
      jrd({ subject: 'acct:alice@mail.example', links: [{ rel: WEBFINGER_REL }] });
      return;
    case 'another-subject':
      jrd({ subject: 'acct:bob@mail.example' });
      return;
    case 'links-not-array':
      jrd({ subject: 'acct:alice@mail.example', links: {} });
      return;
    case 'hang':
      return; // never answers
    case 'ok':
      jrd(createJrd(alice, 'https://mail.example/.well-known/bsso-provider'));
      return;
    default:
      res.writeHead(Number(mode), JRD_TYPE).end('{}');
  }
}

const routed: FetchLike = (input, init) => {
  const url = new URL(input);
  return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, init);
};
// A TLS handshake with a server that does not speak TLS: a real TLS failure.
const tlsFailing: FetchLike = (input, init) => {
  const url = new URL(input);
  return fetch(`https://127.0.0.1:${port}${url.pathname}${url.search}`, init);
};
const refused: FetchLike = (_input, init) => fetch('http://127.0.0.1:1/', init);

async function outcome(m: string, fetch: FetchLike = routed): Promise<string> {
  mode = m;
  hits = [];
  try {
    await discoverProvider(alice.address, { fetch, timeoutMs: 300, checkHostNames: false });
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof BssoError, String(err));
    return err.code;
  }
}

describe('discovery: names no provider versus a failure', () => {
  before(async () => {
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const m of ['404-json', '404-html', '404-after-redirect', 'no-links', 'other-links']) {
    it(`answers no_provider for ${m} (threat 46)`, async () => {
      assert.equal(await outcome(m), 'no_provider');
      // Nothing is fetched after the domain's answer: no configuration request.
      assert.ok(hits.every((h) => h.includes('webfinger') || h.startsWith('/moved')));
    });
  }

  const transient = ['500', '502', '503', '504', '429', '403', '410', 'hang'];
  const broken = ['link-without-href', 'another-subject', 'links-not-array'];
  for (const m of [...transient, ...broken]) {
    it(`never answers no_provider for ${m} (threat 46)`, async () => {
      assert.equal(await outcome(m), 'discovery_failed');
    });
  }

  it('never answers no_provider for a TLS failure or a refused connection (threat 46)', async () => {
    assert.equal(await outcome('ok', tlsFailing), 'discovery_failed');
    assert.equal(await outcome('ok', refused), 'discovery_failed');
  });

  it('still finds a named provider', async () => {
    assert.equal(await outcome('ok'), 'ok');
    assert.deepEqual(hits.length, 2);
  });
});
