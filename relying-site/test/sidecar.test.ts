// bsso-proxy, the sidecar for sites in any language (issue 15 item 4), with Debian's real
// nginx in front (the documented configs, examples/nginx-*.conf), the sidecar, and an app
// that is not Node (Python's http.server echoing what it received). A real sign-in through
// the stand-in provider; a client's forged X-BSSO-Email (any case, duplicated, X_BSSO_Email,
// named in Connection) never reaches the app and makes no session.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  freePort,
  makeTestPki,
  type Nginx,
  nginxMissing,
  routeFetch,
  skipUnlessCi,
  startNginxHttp,
  type TestPki,
  testNetwork,
} from '@bsso/protocol/testing';
import type { ProxyConfig } from '../src/proxy/config.ts';
import { type BssoProxy, startBssoProxy } from '../src/proxy/server.ts';
import { ALICE, Browser, ENDPOINT, hasSessionCookie } from './helpers/fixture.ts';
import {
  headerValues,
  nginxSite,
  pythonMissing,
  type RawAnswer,
  rawRequest,
  type Seen,
  startEchoUpstream,
  type Upstream,
} from './helpers/sidecar-world.ts';
import { type StandIn, startStandIn } from './helpers/stand-in-provider.ts';

const VICTIM = 'victim@mail.test';
const skip = skipUnlessCi(nginxMissing() || pythonMissing());

/** Forged address headers as a client can write them; `cookie` adds a session cookie. */
const FORGERIES: Record<string, string[]> = {
  plain: [`X-BSSO-Email: ${VICTIM}`],
  'lower case': [`x-bsso-email: ${VICTIM}`],
  'odd case': [`X-Bsso-EMAIL: ${VICTIM}`],
  duplicated: [`X-BSSO-Email: ${VICTIM}`, `X-BSSO-Email: ${VICTIM}`],
  'underscores (CGI reads it as the same)': [`X_BSSO_Email: ${VICTIM}`],
  'named in Connection': ['Connection: keep-alive, X-BSSO-Email', `X-BSSO-Email: ${VICTIM}`],
};

let pki: TestPki;
let standIn: StandIn;
let upstream: Upstream;
const clock = { now: Date.UTC(2030, 0, 1) };
const dirs: string[] = [];
let restoreFetch: (() => void) | undefined;

function siteOptions() {
  return {
    now: () => clock.now,
    outbound: { network: testNetwork({ ca: pki.caPem, hosts: { 'mail.test': standIn.port } }) },
  };
}

function config(overrides: Partial<ProxyConfig>): ProxyConfig {
  return {
    mode: 'proxy',
    endpoint: ENDPOINT,
    host: '127.0.0.1',
    port: 0,
    header: 'X-BSSO-Email',
    trustProxy: 0,
    ...overrides,
  };
}

const portOf = (url: string) => Number(new URL(url).port);

/** The app's echo of a raw request (which must have reached it). */
function echoed(answer: RawAnswer): Seen {
  assert.equal(answer.status, 200, answer.body);
  return JSON.parse(answer.body) as Seen;
}

/** Signs a fresh browser in at https://site.test (routed to `port`) and returns it. */
async function signIn(): Promise<Browser> {
  const browser = new Browser('https://site.test');
  const challenge = await browser.challenge();
  const assertion = await standIn.assertionFor({
    email: ALICE,
    audience: ENDPOINT,
    nonce: challenge.nonce,
    ...(challenge.handle ? { handle: challenge.handle } : {}),
  });
  const done = await browser.deliver({ assertion, return_to: '/members/home' });
  assert.equal(done.status, 303, done.text);
  assert.ok(hasSessionCookie(done));
  return browser;
}

/** Everything the app received whose path carries `marker`. */
const reached = (marker: string) => upstream.seen().filter((s) => s.path.includes(marker));

let counter = 0;
const marker = () => `m${++counter}x${process.pid}`;

function assertNoSession(answer: RawAnswer): void {
  const cookies = answer.headers.filter(([k]) => k === 'set-cookie').map(([, v]) => v);
  assert.ok(!cookies.some((c) => c.startsWith('__Host-bsso_session=')), 'no session was made');
}

describe('bsso-proxy', { skip }, () => {
  before(async () => {
    pki = makeTestPki(['mail.test', 'site.test']);
    standIn = await startStandIn(pki, () => clock.now);
    upstream = await startEchoUpstream();
  });
  after(async () => {
    restoreFetch?.();
    await standIn?.close();
    await upstream?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  describe('mode proxy, clients connecting to the sidecar directly', () => {
    let sidecar: BssoProxy;
    let down: BssoProxy;
    before(async () => {
      sidecar = await startBssoProxy(
        config({ upstream: new URL(`http://127.0.0.1:${upstream.port}`) }),
        siteOptions(),
      );
      const closed = await freePort();
      down = await startBssoProxy(
        config({ upstream: new URL(`http://127.0.0.1:${closed}`) }),
        siteOptions(),
      );
    });
    after(async () => {
      await sidecar?.close();
      await down?.close();
    });
    const port = () => portOf(sidecar.url);

    test('signed out: the app gets the request as sent, without the address header', async () => {
      const m = marker();
      const seen = echoed(
        await rawRequest(
          port(),
          [
            `PUT /a/b?${m}=1&y=%20z HTTP/1.1`,
            'Host: site.test',
            'X-Custom: one',
            'X-Custom: two',
            'X-Forwarded-For: 6.6.6.6',
            'Content-Type: text/plain',
            'Content-Length: 5',
            'Connection: close',
          ],
          'hello',
        ),
      );
      assert.equal(seen.method, 'PUT');
      assert.equal(seen.path, `/a/b?${m}=1&y=%20z`);
      assert.equal(seen.body, 'hello');
      assert.deepEqual(headerValues(seen, 'x-custom'), ['one', 'two']);
      assert.deepEqual(headerValues(seen, 'host'), ['site.test']);
      assert.deepEqual(headerValues(seen, 'x-bsso-email'), []);
      // Facing clients (trust proxy 0), a client's X-Forwarded-For is replaced.
      assert.deepEqual(headerValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
      assert.deepEqual(headerValues(seen, 'x-forwarded-proto'), ['http']);
      assert.deepEqual(headerValues(seen, 'x-forwarded-host'), ['site.test']);
      assert.deepEqual(headerValues(seen, 'connection').length <= 1, true);
    });

    test('a chunked body streams to the app, and the answer streams back', async () => {
      const seen = echoed(
        await rawRequest(
          port(),
          [
            `POST /upload?${marker()} HTTP/1.1`,
            'Host: site.test',
            'Transfer-Encoding: chunked',
            'Connection: close',
          ],
          '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
        ),
      );
      assert.equal(seen.body, 'hello world');
    });

    for (const [name, lines] of Object.entries(FORGERIES)) {
      test(`a forged address header (${name}) never reaches the app`, async () => {
        const m = marker();
        const answer = await rawRequest(port(), [
          `GET /page?${m} HTTP/1.1`,
          'Host: site.test',
          ...lines,
        ]);
        const seen = echoed(answer);
        assert.deepEqual(headerValues(seen, 'x-bsso-email'), []);
        assert.equal(reached(m).length, 1);
        assert.deepEqual(headerValues(reached(m)[0] as Seen, 'x-bsso-email'), []);
        assertNoSession(answer);
      });
    }

    test('an absolute URL as the request target is refused, never passed on', async () => {
      const m = marker();
      const answer = await rawRequest(port(), [
        `GET http://app.internal/x?${m} HTTP/1.1`,
        'Host: app.internal',
        'Connection: close',
      ]);
      assert.equal(answer.status, 400);
      assert.deepEqual(reached(m), []);
    });

    test('the app down: a 502 page, no error details', async () => {
      const answer = await rawRequest(portOf(down.url), [
        'GET /page HTTP/1.1',
        'Host: site.test',
        'Connection: close',
      ]);
      assert.equal(answer.status, 502);
      assert.match(answer.body, /Bad gateway/);
      assert.doesNotMatch(answer.body, /ECONNREFUSED|Error|\bat /);
      assert.match(answer.headers.find(([k]) => k === 'content-type')?.[1] ?? '', /text\/html/);
    });
  });

  describe('mode proxy behind nginx (examples/nginx-proxy.conf)', () => {
    let sidecar: BssoProxy;
    let nginx: Nginx;
    before(async () => {
      sidecar = await startBssoProxy(
        config({ upstream: new URL(`http://127.0.0.1:${upstream.port}`), trustProxy: 1 }),
        siteOptions(),
      );
      const listen = await freePort();
      nginx = await startNginxHttp(async (dir) => {
        dirs.push(dir);
        return nginxSite('nginx-proxy.conf', dir, { listen, sidecar: portOf(sidecar.url) }, pki);
      }, listen);
      restoreFetch?.();
      restoreFetch = routeFetch({
        ca: pki.caPem,
        hosts: { 'mail.test': standIn.port, 'site.test': nginx.port },
      });
    });
    after(async () => {
      await nginx?.stop();
      await sidecar?.close();
    });
    const tls = () => ({ servername: 'site.test', ca: pki.caPem });
    const get = (path: string, lines: string[] = []) =>
      rawRequest(
        nginx.port,
        [`GET ${path} HTTP/1.1`, 'Host: site.test', ...lines, 'Connection: close'],
        '',
        tls(),
      );

    for (const [name, lines] of Object.entries(FORGERIES)) {
      test(`a forged address header (${name}) never reaches the app`, async () => {
        const m = marker();
        const answer = await get(`/page?${m}`, lines);
        assert.deepEqual(headerValues(echoed(answer), 'x-bsso-email'), []);
        assert.deepEqual(headerValues(reached(m)[0] as Seen, 'x-bsso-email'), []);
        assertNoSession(answer);
      });
    }

    test('signed in: the app sees the verified address, only it; signed out again: none', async () => {
      const browser = await signIn();
      const cookie = `Cookie: ${browser.cookieHeader()}`;
      const m = marker();
      const seen = echoed(await get(`/members/x?${m}`, [cookie]));
      assert.deepEqual(headerValues(seen, 'x-bsso-email'), [ALICE]);
      assert.deepEqual(headerValues(seen, 'x-forwarded-proto'), ['https']);
      assert.deepEqual(headerValues(seen, 'x-forwarded-host'), ['site.test']);
      // nginx appended the client, the sidecar appended nginx.
      assert.deepEqual(headerValues(seen, 'x-forwarded-for'), ['127.0.0.1, 127.0.0.1']);

      // A signed-in client forging another address: the app still sees only its own.
      for (const lines of Object.values(FORGERIES)) {
        const forged = echoed(await get(`/page?${marker()}`, [cookie, ...lines]));
        assert.deepEqual(headerValues(forged, 'x-bsso-email'), [ALICE]);
      }

      const out = await fetch('https://site.test/bsso/signout', {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: browser.cookieHeader(), origin: 'https://site.test' },
      });
      assert.equal(out.status, 303);
      // The old cookie no longer names a session.
      assert.deepEqual(
        headerValues(echoed(await get(`/members/x?${marker()}`, [cookie])), 'x-bsso-email'),
        [],
      );
    });
  });

  describe('a signed-in client talking to the sidecar directly', () => {
    let sidecar: BssoProxy;
    before(async () => {
      sidecar = await startBssoProxy(
        config({ upstream: new URL(`http://127.0.0.1:${upstream.port}`) }),
        siteOptions(),
      );
      restoreFetch?.();
      restoreFetch = routeFetch({
        ca: pki.caPem,
        hosts: { 'mail.test': standIn.port },
      });
    });
    after(() => sidecar?.close());

    test('Connection: X-BSSO-Email neither drops the added header nor keeps a forged one', async () => {
      // The sidecar itself serves plain http here: sign in against its URL.
      const browser = new Browser(sidecar.url);
      const challenge = await browser.challenge();
      const assertion = await standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: challenge.nonce,
        ...(challenge.handle ? { handle: challenge.handle } : {}),
      });
      assert.equal((await browser.deliver({ assertion })).status, 303);
      for (const lines of Object.values(FORGERIES)) {
        const seen = echoed(
          await rawRequest(portOf(sidecar.url), [
            `GET /page?${marker()} HTTP/1.1`,
            'Host: site.test',
            `Cookie: ${browser.cookieHeader()}`,
            ...lines,
          ]),
        );
        assert.deepEqual(headerValues(seen, 'x-bsso-email'), [ALICE]);
      }
    });
  });

  describe('mode auth-request behind nginx (examples/nginx-auth-request.conf)', () => {
    let sidecar: BssoProxy;
    let nginx: Nginx;
    before(async () => {
      sidecar = await startBssoProxy(
        config({ mode: 'auth-request', trustProxy: 1 }),
        siteOptions(),
      );
      const listen = await freePort();
      nginx = await startNginxHttp(async (dir) => {
        dirs.push(dir);
        return nginxSite(
          'nginx-auth-request.conf',
          dir,
          { listen, app: upstream.port, sidecar: portOf(sidecar.url) },
          pki,
        );
      }, listen);
      restoreFetch?.();
      restoreFetch = routeFetch({
        ca: pki.caPem,
        hosts: { 'mail.test': standIn.port, 'site.test': nginx.port },
      });
    });
    after(async () => {
      await nginx?.stop();
      await sidecar?.close();
    });
    const tls = () => ({ servername: 'site.test', ca: pki.caPem });
    const get = (path: string, lines: string[] = []) =>
      rawRequest(
        nginx.port,
        [`GET ${path} HTTP/1.1`, 'Host: site.test', ...lines, 'Connection: close'],
        '',
        tls(),
      );

    test('signed out: public pages reach the app without the header, members pages do not reach it', async () => {
      const m = marker();
      assert.deepEqual(headerValues(echoed(await get(`/page?${m}`)), 'x-bsso-email'), []);
      const members = marker();
      assert.equal((await get(`/members/x?${members}`)).status, 401);
      assert.deepEqual(reached(members), []);
      // The auth location is nginx's own: clients cannot ask it.
      assert.equal((await get('/bsso/auth')).status, 404);
    });

    for (const [name, lines] of Object.entries(FORGERIES)) {
      test(`a forged address header (${name}) never reaches the app`, async () => {
        const m = marker();
        const plain = lines;
        const answer = await get(`/page?${m}`, plain);
        assert.deepEqual(headerValues(echoed(answer), 'x-bsso-email'), []);
        assert.deepEqual(headerValues(reached(m)[0] as Seen, 'x-bsso-email'), []);
        assertNoSession(answer);
        const members = marker();
        const refused = await get(`/members/x?${members}`, plain);
        assert.equal(refused.status, 401);
        assert.deepEqual(reached(members), []);
        assertNoSession(refused);
      });
    }

    test('signed in: the app sees the verified address; signed out: 401 again', async () => {
      const browser = await signIn();
      const cookie = `Cookie: ${browser.cookieHeader()}`;
      for (const path of ['/members/x', '/page']) {
        const seen = echoed(
          await get(`${path}?${marker()}`, [
            cookie,
            `X-BSSO-Email: ${VICTIM}`,
            `x-bsso-email: ${VICTIM}`,
          ]),
        );
        assert.deepEqual(headerValues(seen, 'x-bsso-email'), [ALICE]);
      }
      const out = await fetch('https://site.test/bsso/signout', {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: browser.cookieHeader(), origin: 'https://site.test' },
      });
      assert.equal(out.status, 303);
      const members = marker();
      assert.equal((await get(`/members/x?${members}`, [cookie])).status, 401);
      assert.deepEqual(reached(members), []);
      assert.deepEqual(
        headerValues(echoed(await get(`/page?${marker()}`, [cookie])), 'x-bsso-email'),
        [],
      );
    });
  });

  describe('the bsso-proxy command', () => {
    const bin = join(import.meta.dirname, '..', 'src', 'bin', 'bsso-proxy.ts');
    const children: ChildProcess[] = [];
    after(() => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    });
    const run = (args: string[], env: Record<string, string>) => {
      const child = spawn(process.execPath, ['--conditions=bsso-source', bin, ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { child, exit, out: () => stdout, err: () => stderr };
    };

    test('a bad configuration: every problem on its own line, exit code 2, nothing listens', async () => {
      const p = run(['--port', '70000'], { BSSO_SITE_ENDPOINT: 'http://site.test/bsso' });
      assert.equal(await p.exit, 2);
      assert.match(p.err(), /--endpoint \(BSSO_SITE_ENDPOINT\): .*https/);
      assert.match(p.err(), /--upstream \(BSSO_PROXY_UPSTREAM\) is required in mode proxy/);
      assert.match(p.err(), /--port \(BSSO_PROXY_PORT\): must be a port number/);
      assert.doesNotMatch(p.err(), /\bat /, 'no stack trace');
    });

    test('from the environment: listens, strips a forged header, serves the endpoint, stops on SIGTERM', async () => {
      const p = run([], {
        BSSO_SITE_ENDPOINT: ENDPOINT,
        BSSO_PROXY_UPSTREAM: `http://127.0.0.1:${upstream.port}`,
        BSSO_PROXY_PORT: '0',
      });
      const url = await new Promise<string>((resolve, reject) => {
        p.child.stdout.on('data', () => {
          const found = /listening on (http:\/\/[\d.]+:\d+)/.exec(p.out());
          if (found?.[1]) resolve(found[1]);
        });
        void p.exit.then(() => reject(new Error(`exited: ${p.err()}`)));
      });
      const m = marker();
      const seen = echoed(
        await rawRequest(portOf(url), [
          `GET /x?${m} HTTP/1.1`,
          'Host: site.test',
          `X-BSSO-Email: ${VICTIM}`,
          'Connection: close',
        ]),
      );
      assert.deepEqual(headerValues(seen, 'x-bsso-email'), []);
      const wrongMethod = await rawRequest(portOf(url), [
        'PUT /bsso HTTP/1.1',
        'Host: site.test',
        'Content-Length: 0',
        'Connection: close',
      ]);
      assert.equal(wrongMethod.status, 405);
      p.child.kill('SIGTERM');
      assert.equal(await p.exit, 0);
    });
  });
});

test('the README shows the nginx configs the tests run', async () => {
  const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  for (const example of ['nginx-proxy.conf', 'nginx-auth-request.conf']) {
    const text = await readFile(join(import.meta.dirname, '..', 'examples', example), 'utf8');
    assert.ok(readme.includes(text.trim()), `README.md shows examples/${example} as is`);
  }
});
