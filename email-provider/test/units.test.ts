import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readServerSettings } from '../src/env.ts';
import { escapeHtml, html } from '../src/pages/html.ts';
import { createPasswordChecker, hashPassword, verifyPassword } from '../src/passwords.ts';
import { createMemoryRateLimiter } from '../src/rate-limit.ts';
import { openSqliteDatabase } from '../src/storage/sqlite-database.ts';
import { createSqliteStores } from '../src/storage/sqlite-stores.ts';
import type { Stores } from '../src/storage/types.ts';
import { removeDir, tempDir } from './helpers.ts';

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

describe('rate limiter', () => {
  it('allows a number of failures per window, then blocks until they age out', () => {
    const limiter = createMemoryRateLimiter({ maxFailures: 2, windowMs: 1000 });
    assert.equal(limiter.allowed('k', 0), true);
    limiter.fail('k', 0);
    limiter.fail('k', 500);
    assert.equal(limiter.allowed('k', 600), false);
    assert.equal(limiter.allowed('other', 600), true);
    assert.equal(limiter.allowed('k', 1001), true);
    limiter.fail('k', 1001);
    limiter.reset('k');
    assert.equal(limiter.allowed('k', 1002), true);
  });

  it('stays bounded in memory', () => {
    const limiter = createMemoryRateLimiter({ maxFailures: 1, windowMs: 1000, maxKeys: 2 });
    limiter.fail('a', 0);
    limiter.fail('b', 0);
    limiter.fail('c', 0);
    assert.equal(limiter.allowed('a', 1), true, 'oldest key dropped');
    assert.equal(limiter.allowed('c', 1), false);
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

// The store contract; a future PostgreSQL or Redis implementation runs the same suite.
function storeContract(
  name: string,
  open: () => Promise<{ stores: Stores; done(): Promise<void> }>,
) {
  describe(`${name} stores`, () => {
    it('accounts: insert once, update, list, remove', async () => {
      const { stores, done } = await open();
      try {
        const r = { email: 'a@x.test', passwordHash: 'h', createdAt: 1, updatedAt: 1 };
        assert.equal(await stores.accounts.insert(r), true);
        assert.equal(await stores.accounts.insert(r), false);
        assert.equal(await stores.accounts.updatePassword('a@x.test', 'h2', 2), true);
        assert.equal((await stores.accounts.find('a@x.test'))?.passwordHash, 'h2');
        assert.deepEqual(await stores.accounts.list(), ['a@x.test']);
        assert.equal(await stores.accounts.remove('a@x.test'), true);
        assert.equal(await stores.accounts.find('a@x.test'), undefined);
      } finally {
        await done();
      }
    });

    it('used assertions: each id once, kept until expiry', async () => {
      const { stores, done } = await open();
      try {
        const results = await Promise.all(
          Array.from({ length: 10 }, () => stores.usedAssertions.markUsed('jti-1', 100)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await stores.usedAssertions.removeExpired(99), 0);
        assert.equal(await stores.usedAssertions.removeExpired(100), 1);
        assert.equal(await stores.usedAssertions.markUsed('jti-1', 200), true);
      } finally {
        await done();
      }
    });

    it('associations: secret round-trips, invalidate, expire', async () => {
      const { stores, done } = await open();
      try {
        const secret = crypto.getRandomValues(new Uint8Array(32));
        await stores.associations.insert({
          handle: 'h1',
          secret,
          site: 'https://site.test',
          createdAt: 0,
          expiresAt: 10,
          invalidated: false,
        });
        const found = await stores.associations.find('h1');
        assert.deepEqual(found?.secret, secret);
        assert.equal(await stores.associations.invalidate('h1'), true);
        assert.equal((await stores.associations.find('h1'))?.invalidated, true);
        assert.equal(await stores.associations.removeExpired(10), 1);
      } finally {
        await done();
      }
    });

    it('sessions and the issued-assertion log', async () => {
      const { stores, done } = await open();
      try {
        await stores.sessions.insert({
          idHash: 's',
          email: 'a@x.test',
          createdAt: 0,
          lastSeenAt: 0,
        });
        await stores.sessions.touch('s', 50);
        assert.equal((await stores.sessions.find('s'))?.lastSeenAt, 50);
        assert.equal(await stores.sessions.removeExpired(40, 0), 0);
        assert.equal(await stores.sessions.removeExpired(60, 0), 1);
        for (const [site, at] of [
          ['https://a.test', 1],
          ['https://b.test', 5],
          ['https://a.test', 9],
        ] as const) {
          await stores.issuedLog.record({ email: 'a@x.test', siteOrigin: site, issuedAt: at });
        }
        assert.deepEqual(await stores.issuedLog.recentSites('a@x.test', 0, 10), [
          { siteOrigin: 'https://a.test', lastIssuedAt: 9, count: 2 },
          { siteOrigin: 'https://b.test', lastIssuedAt: 5, count: 1 },
        ]);
        assert.equal(await stores.issuedLog.removeOlderThan(5), 1);
      } finally {
        await done();
      }
    });
  });
}

storeContract('SQLite', async () => {
  const dir = await tempDir();
  const path = join(dir, 'provider.sqlite');
  // Opening twice checks that migrations run once and are recorded.
  openSqliteDatabase(path).close();
  const stores = createSqliteStores(openSqliteDatabase(path));
  return {
    stores,
    async done() {
      await stores.close();
      await removeDir(dir);
    },
  };
});
