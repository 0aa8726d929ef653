// The shipped deployment, run: bsso-provider as a child process with the settings of
// docs/bsso-provider.service (its Environment= lines; only the port and data directory
// changed), behind Debian's nginx running docs/nginx-bsso-provider.conf itself (listen
// ports, upstream port and certificate paths substituted), TLS at nginx with a throwaway
// certificate. Checks the public endpoints through nginx, the http-to-https redirect, that
// readiness and metrics are refused from other addresses, the metrics token, and that the
// per-client limits see each client (X-Forwarded-For as nginx appends it). Fails, never
// skips, without nginx; skips without openssl only off CI.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasOpenssl, makeTestPki, skipUnlessCi } from '@bsso/protocol/testing';
import { SIGNIN_THROTTLED } from '../src/pages/signin.ts';
import { PASSWORD, removeDir, tempDir } from './helpers.ts';
import { freePort, type Nginx, startNginxHttp } from './nginx.ts';
import { type MainProcess, runUsers, startMain } from './processes.ts';
import { NGINX_EXAMPLE, readUnit, UNIT_FILE, unitEnvironment, values } from './unit-file.ts';

const HOST = 'mail.example.com';
const ALICE = `alice@${HOST}`;
const TOKEN = 'deploy-metrics-token-0123456789abcdef0123';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Replaces each `from` exactly once: the example must still say what the test expects. */
function substitute(text: string, pairs: [string, string][]): string {
  let out = text;
  for (const [from, to] of pairs) {
    assert.equal(out.split(from).length - 1, 1, `the nginx example has "${from}" once`);
    out = out.replace(from, to);
  }
  return out;
}

describe('deployment: the shipped systemd settings behind the shipped nginx config', {
  skip: skipUnlessCi(!hasOpenssl() && 'openssl is not installed'),
}, () => {
  let dir: string;
  let main: MainProcess;
  let nginx: Nginx;
  let httpPort: number;
  let ca: string;
  let env: Record<string, string>;

  const get = (
    path: string,
    options: {
      from?: string;
      headers?: Record<string, string>;
      method?: string;
      body?: string;
    } = {},
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: nginx.port,
          servername: HOST,
          ca,
          path,
          method: options.method ?? 'GET',
          localAddress: options.from ?? '127.0.0.1',
          headers: { host: HOST, ...options.headers },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });

  before(async () => {
    dir = await tempDir();
    const pki = makeTestPki([HOST]);
    ca = pki.caPem;
    await writeFile(join(dir, 'metrics-token'), `${TOKEN}\n`, { mode: 0o600 });
    const unit = readUnit();
    // The unit's own settings, plus what /etc/bsso-provider/env would hold.
    env = {
      ...unitEnvironment(unit),
      BSSO_PORT: '0',
      BSSO_DATA_DIR: join(dir, 'data'),
      BSSO_ISSUER: `https://${HOST}`,
      BSSO_DOMAINS: HOST,
      BSSO_METRICS_TOKEN_FILE: join(dir, 'metrics-token'),
    };
    assert.equal(values(unit, 'Service', 'EnvironmentFile').length, 1);
    const added = await runUsers(['add', ALICE], env, `${PASSWORD}\n`);
    assert.equal(added.code, 0, added.err);
    main = await startMain(env);
    const port = await freePort();
    httpPort = await freePort();
    const example = await readFile(NGINX_EXAMPLE, 'utf8');
    nginx = await startNginxHttp(async (nginxDir) => {
      await writeFile(join(nginxDir, 'cert.pem'), pki.certPem);
      await writeFile(join(nginxDir, 'key.pem'), pki.keyPem, { mode: 0o600 });
      return substitute(example, [
        ['server 127.0.0.1:8443;', `server 127.0.0.1:${main.port};`],
        ['listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`],
        ['listen [::]:443 ssl http2;', ''],
        ['listen 80;', `listen 127.0.0.1:${httpPort};`],
        ['listen [::]:80;', ''],
        [`/etc/letsencrypt/live/${HOST}/fullchain.pem`, join(nginxDir, 'cert.pem')],
        [`/etc/letsencrypt/live/${HOST}/privkey.pem`, join(nginxDir, 'key.pem')],
      ]);
    }, port);
  });

  after(async () => {
    await nginx?.stop();
    if (main) assert.equal(await main.stop(), 0);
    await removeDir(dir);
  });

  it('the unit has the settings the README promises', () => {
    const unit = readUnit(UNIT_FILE);
    const one = (key: string) => values(unit, 'Service', key);
    assert.deepEqual(one('User'), ['bsso']);
    assert.deepEqual(one('StateDirectory'), ['bsso-provider']);
    assert.deepEqual(one('NoNewPrivileges'), ['yes']);
    assert.deepEqual(one('ProtectSystem'), ['strict']);
    assert.deepEqual(one('ExecReload'), ['/bin/kill -HUP $MAINPID']);
    assert.equal(env.BSSO_TRUST_PROXY, '1');
    assert.equal(env.BSSO_BEHIND_TLS_PROXY, '1');
    assert.equal(env.BSSO_HOST, '127.0.0.1');
    assert.deepEqual(values(unit, 'Install', 'WantedBy'), ['multi-user.target']);
  });

  it('serves discovery and health over TLS at nginx, and redirects http', async () => {
    const health = await get('/healthz');
    assert.equal(health.status, 200);
    assert.match(String(health.headers['strict-transport-security']), /max-age=/);
    const wf = await get(`/.well-known/webfinger?resource=acct:${ALICE}`);
    assert.equal(wf.status, 200);
    assert.equal(JSON.parse(wf.body).subject, `acct:${ALICE}`);
    const config = await get('/.well-known/bsso-provider');
    assert.equal(JSON.parse(config.body).issuer, `https://${HOST}`);
    const redirect = await new Promise<Answer>((resolve, reject) => {
      httpRequest(
        { host: '127.0.0.1', port: httpPort, path: '/signin', headers: { host: HOST } },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }),
          );
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `https://${HOST}/signin`);
  });

  it('readiness and metrics: only from the host itself, metrics only with the token', async () => {
    assert.equal((await get('/readyz')).status, 200);
    assert.equal((await get('/readyz', { from: '127.0.0.2' })).status, 403);
    const bearer = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await get('/metrics', { from: '127.0.0.2', headers: bearer })).status, 403);
    assert.equal((await get('/metrics')).status, 401);
    const metrics = await get('/metrics', { headers: bearer });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /bsso_http_request_duration_seconds_count\{endpoint="\/healthz"/);
  });

  it('counts each client by the address nginx saw; a forged X-Forwarded-For buys nothing', async () => {
    const signIn = async (from: string, forged: string, password: string) => {
      const page = await get('/signin', { from });
      const token = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const cookie = [page.headers['set-cookie'] ?? []]
        .flat()
        .map((c) => c.split(';')[0])
        .join('; ');
      return get('/signin', {
        from,
        method: 'POST',
        headers: {
          cookie,
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': forged,
        },
        body: new URLSearchParams({ csrf_token: token, email: ALICE, password }).toString(),
      });
    };
    // The default limit: 5 failures per account and client in 15 minutes.
    for (let i = 1; i <= 5; i++) {
      assert.equal((await signIn('127.0.0.3', `203.0.113.${i}`, 'wrong password')).status, 401);
    }
    const throttled = await signIn('127.0.0.3', '203.0.113.99', PASSWORD);
    assert.equal(throttled.status, 429);
    assert.ok(throttled.body.includes(SIGNIN_THROTTLED));
    // Alice on another address is not locked out.
    assert.equal((await signIn('127.0.0.4', '203.0.113.1', PASSWORD)).status, 303);
  });
});
