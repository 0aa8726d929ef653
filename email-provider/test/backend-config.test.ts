// Choosing the account back-end: environment variables read once and checked at start,
// nonsense refused with a message naming the variable; sign-up and the users CLI's add and
// reset-password refused for back-ends whose accounts live elsewhere.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readServerSettings } from '../src/env.ts';
import { createProvider, silentLogger } from '../src/index.ts';
import { removeDir, tempDir } from './helpers.ts';

const BASE = {
  BSSO_ISSUER: 'https://mail.test',
  BSSO_DOMAINS: 'mail.test',
  BSSO_DATA_DIR: '/var/lib/bsso',
  BSSO_DEVELOPMENT_HTTP: '1',
};

describe('account back-end settings', () => {
  let dir: string;
  let secretFile: string;
  before(async () => {
    dir = await tempDir();
    secretFile = join(dir, 'secret');
    await writeFile(secretFile, 'a secret\n');
  });
  after(() => removeDir(dir));

  it('defaults to builtin', () => {
    assert.deepEqual(readServerSettings(BASE).provider.accountBackend, { type: 'builtin' });
  });

  it('reads each back-end with exactly its variables', () => {
    assert.deepEqual(
      readServerSettings({
        ...BASE,
        BSSO_ACCOUNT_BACKEND: 'imap',
        BSSO_IMAP_HOST: 'imap.mail.test',
        BSSO_IMAP_PORT: '143',
        BSSO_IMAP_TLS: 'starttls',
        BSSO_IMAP_LOGIN: 'local-part',
        BSSO_BACKEND_TIMEOUT_MS: '5000',
      }).provider.accountBackend,
      {
        type: 'imap',
        host: 'imap.mail.test',
        port: 143,
        tls: 'starttls',
        login: 'local-part',
        timeoutMs: 5000,
      },
    );
    assert.deepEqual(
      readServerSettings({
        ...BASE,
        BSSO_ACCOUNT_BACKEND: 'ldap',
        BSSO_LDAP_URL: 'ldaps://ldap.mail.test',
        BSSO_LDAP_BASE_DN: 'ou=people,dc=mail,dc=test',
        BSSO_LDAP_BIND_DN: 'cn=bsso,dc=mail,dc=test',
        BSSO_LDAP_BIND_PASSWORD_FILE: secretFile,
      }).provider.accountBackend,
      {
        type: 'ldap',
        url: 'ldaps://ldap.mail.test',
        baseDn: 'ou=people,dc=mail,dc=test',
        bindDn: 'cn=bsso,dc=mail,dc=test',
        bindPassword: 'a secret',
      },
    );
    assert.deepEqual(
      readServerSettings({
        ...BASE,
        BSSO_ACCOUNT_BACKEND: 'oidc',
        BSSO_OIDC_ISSUER: 'https://idp.mail.test',
        BSSO_OIDC_CLIENT_ID: 'bsso',
        BSSO_OIDC_CLIENT_SECRET_FILE: secretFile,
        BSSO_OIDC_LABEL: 'Mail Corp',
      }).provider.accountBackend,
      {
        type: 'oidc',
        issuer: 'https://idp.mail.test',
        clientId: 'bsso',
        clientSecret: 'a secret',
        label: 'Mail Corp',
      },
    );
  });

  it('refuses nonsense with the variable named', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ BSSO_ACCOUNT_BACKEND: 'imaps' }, /BSSO_ACCOUNT_BACKEND must be one of/],
      [{ BSSO_ACCOUNT_BACKEND: 'imap' }, /BSSO_IMAP_HOST is required/],
      [
        { BSSO_IMAP_HOST: 'imap.mail.test' },
        /BSSO_IMAP_HOST is set but BSSO_ACCOUNT_BACKEND is builtin/,
      ],
      [
        { BSSO_ACCOUNT_BACKEND: 'imap', BSSO_IMAP_HOST: 'h', BSSO_IMAP_TLS: 'none' },
        /BSSO_IMAP_TLS must be implicit or starttls/,
      ],
      [
        { BSSO_ACCOUNT_BACKEND: 'imap', BSSO_IMAP_HOST: 'h', BSSO_IMAP_PORT: 'x' },
        /BSSO_IMAP_PORT must be a whole number/,
      ],
      [
        {
          BSSO_ACCOUNT_BACKEND: 'ldap',
          BSSO_LDAP_URL: 'ldaps://h',
          BSSO_LDAP_BASE_DN: 'dc=x',
          BSSO_LDAP_BIND_DN: 'cn=x',
        },
        /Set both BSSO_LDAP_BIND_DN and BSSO_LDAP_BIND_PASSWORD_FILE/,
      ],
      [
        {
          BSSO_ACCOUNT_BACKEND: 'oidc',
          BSSO_OIDC_ISSUER: 'https://idp',
          BSSO_OIDC_CLIENT_ID: 'c',
          BSSO_OIDC_CLIENT_SECRET_FILE: '/nonexistent/secret',
          BSSO_OIDC_LABEL: 'x',
        },
        /BSSO_OIDC_CLIENT_SECRET_FILE: cannot read/,
      ],
      [{ BSSO_BACKEND_TIMEOUT_MS: '100' }, /BSSO_BACKEND_TIMEOUT_MS needs an external back-end/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => readServerSettings({ ...BASE, ...env }), message);
    }
  });

  it('refuses at start what the options cannot mean', async () => {
    const base = { issuer: 'https://mail.test', domains: ['mail.test'], dataDir: dir };
    const imap = { type: 'imap', host: 'imap.mail.test' } as const;
    await assert.rejects(
      createProvider({ ...base, signupEnabled: true, accountBackend: imap }),
      /signupEnabled needs the builtin account back-end/,
    );
    await assert.rejects(
      createProvider({
        ...base,
        accountBackend: { type: 'ldap', url: 'http://x', baseDn: 'dc=x' },
      }),
      /ldaps:\/\/ or ldap:\/\//,
    );
    await assert.rejects(
      createProvider({
        ...base,
        domains: ['mail.test', 'other.test'],
        accountBackend: { ...imap, login: 'local-part' },
      }),
      /local-part needs exactly one domain/,
    );
    await assert.rejects(
      createProvider({ ...base, accountBackend: { ...imap, timeoutMs: 10 } }),
      /timeoutMs must be an integer/,
    );
    await assert.rejects(
      createProvider({ ...base, accountBackend: { ...imap, caFile: join(dir, 'missing.pem') } }),
      /caFile: cannot read/,
    );
    const provider = await createProvider({
      ...base,
      logger: silentLogger,
      sweepIntervalMs: 0,
      accountBackend: imap,
    });
    try {
      await assert.rejects(provider.accounts.create('a@mail.test', 'long enough password'), {
        code: 'invalid_request',
      });
      await assert.rejects(provider.accounts.setPassword('a@mail.test', 'long enough password'), {
        code: 'invalid_request',
      });
    } finally {
      await provider.close();
    }
  });
});

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

function users(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; err: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=bsso-source', cli, ...args], {
      env: { ...process.env, BSSO_DOMAINS: 'mail.test', ...env },
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, err }));
    child.stdin.end('long enough password\n');
  });
}

describe('users CLI with an external back-end', () => {
  it('refuses add and reset-password with a clear message, and creates nothing', async () => {
    const dir = await tempDir();
    try {
      for (const command of ['add', 'reset-password']) {
        const r = await users(['--data-dir', dir, command, 'alice@mail.test'], {
          BSSO_ACCOUNT_BACKEND: 'imap',
        });
        assert.equal(r.code, 2);
        assert.match(r.err, new RegExp(`users ${command}: BSSO_ACCOUNT_BACKEND is imap`));
      }
      const list = await users(['--data-dir', dir, 'list'], { BSSO_ACCOUNT_BACKEND: 'imap' });
      assert.equal(list.code, 0);
    } finally {
      await removeDir(dir);
    }
  });
});
