import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeAssertion, parseAssociationAnswer } from '@bsso/protocol';
import { SESSION_COOKIE } from '../src/index.ts';
import {
  AUDIENCE,
  Browser,
  nonce,
  PASSWORD,
  postJson,
  removeDir,
  startProvider,
  tempDir,
} from './helpers.ts';

const ALICE = 'alice@mail.test';

describe('sign-up (when enabled)', () => {
  it('creates an account in a served domain and signs in', async () => {
    const p = await startProvider({ signupEnabled: true });
    try {
      const b = new Browser(p.base);
      const token = await b.csrf('/signup');
      const other = await b.postForm('/signup', {
        csrf_token: token,
        email: 'carol@other.test',
        password: 'long enough',
      });
      assert.equal(other.status, 400);
      const short = await b.postForm('/signup', {
        csrf_token: token,
        email: 'carol@mail.test',
        password: 'short',
      });
      assert.equal(short.status, 400);
      const noCsrf = await b.postForm('/signup', {
        email: 'carol@mail.test',
        password: 'long enough',
      });
      assert.equal(noCsrf.status, 403);
      const ok = await b.postForm('/signup', {
        csrf_token: token,
        email: 'Carol@mail.test',
        password: 'long enough',
      });
      assert.equal(ok.status, 303);
      assert.ok(b.cookies.has(SESSION_COOKIE));
      assert.deepEqual(await p.provider.accounts.list(), ['carol@mail.test']);
    } finally {
      await p.stop();
      await removeDir(p.dataDir);
    }
  });
});

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

function users(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=bsso-source', cli, ...args], {
      env: { ...process.env, BSSO_DOMAINS: 'mail.test', BSSO_DATA_DIR: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(stdin);
  });
}

describe('users CLI', () => {
  it('adds, lists, resets and removes accounts the provider then uses', async () => {
    const dataDir = await tempDir();
    try {
      const d = ['--data-dir', dataDir];
      assert.equal((await users([...d, 'add', 'Dave@mail.test'], 'first password\n')).code, 0);
      assert.notEqual((await users([...d, 'add', 'dave@mail.test'], 'first password\n')).code, 0);
      assert.notEqual((await users([...d, 'add', 'eve@other.test'], 'first password\n')).code, 0);
      assert.equal((await users([...d, 'list'])).out, 'dave@mail.test\n');
      const reset = await users([...d, 'reset-password', 'dave@mail.test'], 'second password\n');
      assert.equal(reset.code, 0);
      const p = await startProvider({ dataDir });
      try {
        const b = new Browser(p.base);
        assert.equal((await b.signIn('dave@mail.test', 'first password')).status, 401);
        assert.equal((await b.signIn('dave@mail.test', 'second password')).status, 303);
      } finally {
        await p.stop();
      }
      assert.equal((await users([...d, 'remove', 'dave@mail.test'])).code, 0);
      assert.equal((await users([...d, 'list'])).out, '');
      assert.equal((await users([])).code, 2);
    } finally {
      await removeDir(dataDir);
    }
  });
});

describe('users CLI: invalidate-association', () => {
  it('invalidates a live handle; the provider then signs with its own key and says so', async () => {
    const dataDir = await tempDir();
    try {
      const first = await startProvider({ dataDir });
      await first.provider.accounts.create(ALICE, PASSWORD);
      const res = await postJson(first.base, '/bsso/association', { site: 'https://site.test' });
      const { handle } = parseAssociationAnswer(await res.json());
      await first.stop();

      const d = ['--data-dir', dataDir];
      assert.equal((await users([...d, 'invalidate-association', handle])).code, 0);
      assert.equal((await users([...d, 'invalidate-association', handle])).code, 1, 'once only');

      const second = await startProvider({ dataDir, clock: first.clock });
      try {
        const b = new Browser(second.base);
        assert.equal((await b.signIn(ALICE, PASSWORD)).status, 303);
        const answer = await b.askAssertion({
          email: ALICE,
          audience: AUDIENCE,
          nonce: nonce(),
          handle,
        });
        const { assertion } = (await answer.json()) as { assertion: string };
        const decoded = decodeAssertion(assertion);
        assert.equal(decoded.header.alg, 'EdDSA');
        assert.equal(decoded.claims.invalidate_handle, handle);
      } finally {
        await second.stop();
      }
    } finally {
      await removeDir(dataDir);
    }
  });
});
