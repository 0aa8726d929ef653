// Property tests over real HTTP: hostile requests at every provider endpoint never get a 500,
// never hang (each request has a deadline), always get a known error code on the JSON
// endpoints, and never yield an assertion or a "valid" verdict. Long run:
//   FUZZ_RUNS=100000 npm run fuzz -w @bsso/email-provider
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isErrorCode } from '@bsso/protocol';
import fc from 'fast-check';
import {
  AUDIENCE,
  Browser,
  EXTENSION_ORIGIN,
  PASSWORD,
  type Running,
  removeDir,
  startProvider,
} from './helpers.ts';

const numRuns = Number(process.env.FUZZ_RUNS ?? 40);
const ALICE = 'alice@mail.test';

const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.emailAddress(),
  fc.webUrl(),
);
const json = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        email: fc.oneof(text, fc.constant(ALICE)),
        audience: fc.oneof(text, fc.constant(AUDIENCE)),
        nonce: fc.oneof(text, fc.constant('n'.repeat(43))),
        handle: text,
        site: fc.oneof(text, fc.constant('https://site.test')),
        assertion: text,
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  text,
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded',
  'text/plain',
  '',
);
const origin = fc.constantFrom(EXTENSION_ORIGIN, 'https://evil.test', 'null', '');

describe('provider endpoints under hostile requests', () => {
  let p: Running;
  let alice: Browser;
  before(async () => {
    p = await startProvider({ signinFailuresPerIp: 100_000, associationsPerIpPerMinute: 100_000 });
    await p.provider.accounts.create(ALICE, PASSWORD);
    alice = new Browser(p.base);
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  async function send(path: string, init: RequestInit & { headers?: Record<string, string> }) {
    const res = await alice.fetch(path, { ...init, signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    assert.ok(res.status < 500, `${path}: ${res.status} ${body}`);
    return { status: res.status, body, type: res.headers.get('content-type') ?? '' };
  }

  function jsonError(a: { status: number; body: string }): void {
    if (a.status < 400) return;
    const parsed = JSON.parse(a.body) as { error?: unknown };
    assert.ok(isErrorCode(parsed.error), a.body);
  }

  it('POST /bsso/assertion, /bsso/association, /bsso/verify', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/bsso/assertion', '/bsso/association', '/bsso/verify'),
        json,
        contentType,
        origin,
        async (path, body, type, from) => {
          // 40 requests a minute: under the assertion limits (per session and client), so
          // long runs keep reaching the parsers.
          p.clock.ms += 1_500;
          const headers: Record<string, string> = {};
          if (type) headers['content-type'] = type;
          if (from) headers.origin = from;
          const a = await send(path, { method: 'POST', headers, body });
          jsonError(a);
          if (path === '/bsso/verify') assert.equal(a.body.includes('"valid":true'), false);
          if (path === '/bsso/assertion' && from !== EXTENSION_ORIGIN) {
            assert.equal(a.status, 403);
          }
        },
      ),
      { numRuns },
    );
  });

  it('GET webfinger and the configuration with hostile queries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('resource', 'rel', 'x'), text), { maxLength: 4 }),
        fc.constantFrom('/.well-known/webfinger', '/.well-known/bsso-provider'),
        async (params, path) => {
          const query = new URLSearchParams(params).toString();
          const a = await send(`${path}?${query}`, { method: 'GET' });
          jsonError(a);
        },
      ),
      { numRuns },
    );
  });

  it('POST /signin with hostile forms: never a session without the password', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('email', 'password', 'csrf_token', 'popup', 'x'), text),
        contentType,
        async (fields, type) => {
          const headers: Record<string, string> = type ? { 'content-type': type } : {};
          const res = await fetch(`${p.base}/signin`, {
            method: 'POST',
            headers,
            body: new URLSearchParams(fields).toString(),
            redirect: 'manual',
            signal: AbortSignal.timeout(5000),
          });
          await res.text();
          assert.ok(res.status < 500 && res.status !== 303, String(res.status));
          assert.equal(
            res.headers.getSetCookie().some((c) => c.startsWith('__Host-bsso_provider=')),
            false,
          );
        },
      ),
      { numRuns },
    );
  });
});
