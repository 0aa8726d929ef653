// Behind a real reverse proxy (threat 50): Debian's nginx in front of the provider on
// loopback, appending the client's address to X-Forwarded-For; the provider runs with
// BSSO_TRUST_PROXY=1 (one hop). Clients connect to nginx from different loopback addresses
// (127.0.0.1, 127.0.0.2, ...), so nginx sees different clients. Fails, never skips, when
// nginx is missing.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { readServerSettings } from '../src/env.ts';
import { SESSION_COOKIE } from '../src/index.ts';
import { SIGNIN_FAILED, SIGNIN_THROTTLED } from '../src/pages/signin.ts';
import { PASSWORD, type Running, removeDir, startProvider } from './helpers.ts';
import { type Nginx, startNginx } from './nginx.ts';

const ALICE = 'alice@mail.test';
const BOB = 'bob@mail.test';

interface Answer {
  status: number;
  body: string;
  setCookies: string[];
}

/** A browser on one client address: keeps cookies, talks to nginx over plain http. */
class Client {
  readonly cookies = new Map<string, string>();
  readonly port: number;
  readonly localAddress: string;
  readonly forwardedFor: string | undefined;

  constructor(port: number, localAddress: string, forwardedFor?: string) {
    this.port = port;
    this.localAddress = localAddress;
    this.forwardedFor = forwardedFor;
  }

  send(method: string, path: string, body?: string): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (this.forwardedFor) headers['x-forwarded-for'] = this.forwardedFor;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          localAddress: this.localAddress,
          method,
          path,
          headers,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => {
            const setCookies = res.headers['set-cookie'] ?? [];
            for (const c of setCookies) {
              const [pair = ''] = c.split(';');
              const eq = pair.indexOf('=');
              const name = pair.slice(0, eq);
              const value = pair.slice(eq + 1);
              if (value === '') this.cookies.delete(name);
              else this.cookies.set(name, value);
            }
            resolve({ status: res.statusCode ?? 0, body: text, setCookies });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async signIn(email: string, password: string): Promise<Answer> {
    const page = await this.send('GET', '/signin');
    const token = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const form = new URLSearchParams({ csrf_token: token, email, password }).toString();
    return this.send('POST', '/signin', form);
  }

  signedIn(answer: Answer): boolean {
    return answer.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !/=;/.test(c));
  }
}

describe('the provider behind nginx (BSSO_TRUST_PROXY=1)', () => {
  let p: Running;
  let nginx: Nginx;
  before(async () => {
    const { provider } = readServerSettings({
      BSSO_ISSUER: 'https://mail.test',
      BSSO_DOMAINS: 'mail.test',
      BSSO_DATA_DIR: 'unused',
      BSSO_DEVELOPMENT_HTTP: '1',
      BSSO_TRUST_PROXY: '1',
    });
    p = await startProvider({
      trustProxy: provider.trustProxy ?? false,
      signinFailuresPerIp: 3,
      signinFailuresPerAccount: 1000,
    });
    await p.provider.accounts.create(ALICE, PASSWORD);
    await p.provider.accounts.create(BOB, PASSWORD);
    nginx = await startNginx(Number(new URL(p.base).port));
  });
  beforeEach(() => {
    // Earlier failures have expired when each test starts.
    p.clock.ms += 3_600_000;
  });
  after(async () => {
    await nginx?.stop();
    await p?.stop();
    if (p) await removeDir(p.dataDir);
  });

  it('two clients get separate rate-limit buckets', async () => {
    const attacker = new Client(nginx.port, '127.0.0.1');
    const victim = new Client(nginx.port, '127.0.0.2');
    for (let i = 0; i < 3; i++) {
      const failed = await attacker.signIn(`user${i}@mail.test`, 'wrong password');
      assert.equal(failed.status, 401);
    }
    const throttled = await attacker.signIn(BOB, PASSWORD);
    assert.equal(throttled.status, 429);
    assert.ok(throttled.body.includes(SIGNIN_THROTTLED));
    assert.equal(attacker.signedIn(throttled), false, 'no session');
    // The victim's address has its own bucket: a wrong password is only wrong, the right
    // one signs in.
    const wrong = await victim.signIn(ALICE, 'wrong password');
    assert.equal(wrong.status, 401);
    assert.ok(wrong.body.includes(SIGNIN_FAILED));
    const ok = await victim.signIn(ALICE, PASSWORD);
    assert.equal(ok.status, 303);
    assert.equal(victim.signedIn(ok), true);
  });

  it('a client forging X-Forwarded-For gets no new buckets', async () => {
    const forgers = Array.from(
      { length: 5 },
      (_, i) => new Client(nginx.port, '127.0.0.3', `203.0.113.${i + 1}`),
    );
    for (let i = 0; i < 3; i++) {
      const failed = await forgers[i]?.signIn(`user${i}@mail.test`, 'wrong password');
      assert.equal(failed?.status, 401);
    }
    // A fresh forged address does not help: Express takes the address nginx appended.
    for (const forger of forgers.slice(3)) {
      const throttled = await forger.signIn(BOB, PASSWORD);
      assert.equal(throttled.status, 429);
      assert.ok(throttled.body.includes(SIGNIN_THROTTLED));
      assert.equal(forger.signedIn(throttled), false, 'no session');
    }
    // Another real client is unaffected.
    const other = await new Client(nginx.port, '127.0.0.4').signIn(BOB, PASSWORD);
    assert.equal(other.status, 303);
  });
});
