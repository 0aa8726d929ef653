import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readServerSettings } from '../src/env.ts';
import { escapeHtml, html } from '../src/pages/html.ts';
import { createPasswordChecker, hashPassword, verifyPassword } from '../src/passwords.ts';
import { createMemoryFailureThrottle } from '../src/rate-limit.ts';

describe('passwords', () => {
  it('hash with a per-user salt and verify in constant time', async () => {
    const a = await hashPassword('hunter2hunter2');
    const b = await hashPassword('hunter2hunter2');
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.equal(await verifyPassword('hunter2hunter2', a), true);
    assert.equal(await verifyPassword('hunter2hunter3', a), false);
    for (const bad of ['', 'scrypt$1$2', 'bcrypt$x$y$z$a$b', 'scrypt$9999999$8$1$AA$AA']) {
      assert.equal(await verifyPassword('x', bad), false);
    }
  });

  it('check unknown accounts against a dummy hash', async () => {
    const check = createPasswordChecker();
    assert.equal(await check('anything at all', undefined), false);
    assert.equal(await check('pw pw pw', await hashPassword('pw pw pw')), true);
  });
});

describe('memory rate limiter', () => {
  it('stays bounded in memory', async () => {
    const limiter = createMemoryFailureThrottle({ maxFailures: 1, windowMs: 1000, maxKeys: 2 });
    await limiter.fail('a', 0);
    await limiter.fail('b', 0);
    await limiter.fail('c', 0);
    assert.equal(await limiter.allowed('a', 1), true, 'oldest key dropped');
    assert.equal(await limiter.allowed('c', 1), false);
  });
});

describe('html', () => {
  it('escapes interpolations but not nested templates', () => {
    assert.equal(
      escapeHtml(`<a href="x">'&'</a>`),
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(
      html`<p>${inner}${['<', html`<br>`]}${undefined}${false}</p>`.value,
      '<p><b>&lt;i&gt;</b>&lt;<br></p>',
    );
  });
});

describe('environment settings', () => {
  const env = {
    BSSO_ISSUER: 'https://mail.test',
    BSSO_DOMAINS: 'mail.test, example.test',
    BSSO_DATA_DIR: '/var/lib/bsso',
    BSSO_TLS_CERT: '/etc/cert.pem',
    BSSO_TLS_KEY: '/etc/key.pem',
  };
  it('reads a complete environment', () => {
    const s = readServerSettings({ ...env, BSSO_PORT: '443', BSSO_SIGNUP: '1' });
    assert.equal(s.port, 443);
    assert.deepEqual(s.provider.domains, ['mail.test', 'example.test']);
    assert.equal(s.provider.signupEnabled, true);
    assert.deepEqual(s.tls, { certFile: '/etc/cert.pem', keyFile: '/etc/key.pem' });
  });
  it('refuses missing or half settings', () => {
    assert.throws(() => readServerSettings({ ...env, BSSO_ISSUER: undefined }), /BSSO_ISSUER/);
    assert.throws(() => readServerSettings({ ...env, BSSO_TLS_KEY: undefined }), /BOTH|both/);
    assert.throws(() => readServerSettings({ ...env, BSSO_PORT: 'x' }), /BSSO_PORT/);
    assert.throws(
      () => readServerSettings({ ...env, BSSO_TLS_CERT: undefined, BSSO_TLS_KEY: undefined }),
      /required/,
    );
    const dev = readServerSettings({
      ...env,
      BSSO_TLS_CERT: undefined,
      BSSO_TLS_KEY: undefined,
      BSSO_DEVELOPMENT_HTTP: '1',
    });
    assert.equal(dev.tls, undefined);
    assert.equal(dev.provider.developmentAllowLocalhostHttp, true);
  });
});
