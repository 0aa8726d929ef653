// The users CLI's passkey commands: list an account's passkeys, remove them all (lost
// authenticators); the provider then signs the account in with the password alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqliteDatabase } from '../src/storage/sqlite-database.ts';
import { createSqliteStores } from '../src/storage/sqlite-stores.ts';
import { Browser, PASSWORD, removeDir, START, startProvider, tempDir } from './helpers.ts';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

function users(args: string[]): Promise<{ code: number; out: string; err: string }> {
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
    child.stdin.end();
  });
}

describe('users CLI: passkeys', () => {
  it('lists and removes an account’s passkeys; then the password alone signs in', async () => {
    const dataDir = await tempDir();
    try {
      const first = await startProvider({ dataDir });
      await first.provider.accounts.create('alice@mail.test', PASSWORD);
      await first.stop();
      const stores = createSqliteStores(openSqliteDatabase(join(dataDir, 'provider.sqlite')));
      await stores.passkeys.insert({
        id: 'credential-id-of-alice',
        email: 'alice@mail.test',
        publicKey: new Uint8Array(77),
        counter: 0,
        transports: ['internal', 'hybrid'],
        createdAt: START,
      });
      await stores.close();

      const d = ['--data-dir', dataDir];
      const listed = await users([...d, 'passkeys', 'Alice@mail.test']);
      assert.equal(listed.code, 0);
      assert.equal(
        listed.out,
        'credential-i  added 2026-01-01T12:00:00.000Z  transports internal,hybrid\n',
      );
      assert.match(listed.err, /1 passkey\(s\) of alice@mail\.test/);

      const second = await startProvider({ dataDir });
      try {
        const asked = await new Browser(second.base).signIn('alice@mail.test', PASSWORD);
        assert.equal(asked.status, 200, 'the passkey step');
        const removed = await users([...d, 'remove-passkeys', 'alice@mail.test']);
        assert.equal(removed.code, 0);
        assert.match(removed.out, /removed 1 passkey\(s\) of alice@mail\.test/);
        const signedIn = await new Browser(second.base).signIn('alice@mail.test', PASSWORD);
        assert.equal(signedIn.status, 303);
      } finally {
        await second.stop();
      }
      assert.equal((await users([...d, 'passkeys', 'not an address'])).code, 1);
      assert.equal((await users([...d, 'passkeys'])).code, 2);
    } finally {
      await removeDir(dataDir);
    }
  });
});
