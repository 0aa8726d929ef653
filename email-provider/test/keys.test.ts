import assert from 'node:assert/strict';
import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeAssertion } from '@bsso/protocol';
import { createProvider, rotateSigningKey, SIGNING_KEYS_FILE, silentLogger } from '../src/index.ts';
import { createKeyRing } from '../src/keys.ts';
import {
  AUDIENCE,
  Browser,
  DOMAIN,
  ISSUER,
  nonce,
  PASSWORD,
  postJson,
  removeDir,
  startProvider,
  tempDir,
} from './helpers.ts';

const ALICE = 'alice@mail.test';

async function issue(base: string): Promise<string> {
  const b = new Browser(base);
  await b.signIn(ALICE, PASSWORD);
  const res = await b.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
  return ((await res.json()) as { assertion: string }).assertion;
}

describe('signing keys', () => {
  it('are created owner-only and reused after a restart', async () => {
    const first = await startProvider();
    await first.provider.accounts.create(ALICE, PASSWORD);
    const file = join(first.dataDir, SIGNING_KEYS_FILE);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(first.dataDir, 'provider.sqlite'))).mode & 0o777, 0o600);
    const before = await issue(first.base);
    await first.stop();

    const second = await startProvider({ dataDir: first.dataDir, clock: first.clock });
    try {
      const afterRestart = await issue(second.base);
      assert.equal(decodeAssertion(afterRestart).header.kid, decodeAssertion(before).header.kid);
      assert.equal(
        (await postJson(second.base, '/bsso/verify', { assertion: before })).status,
        200,
      );
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    } finally {
      await second.stop();
      await removeDir(first.dataDir);
    }
  });

  it('keep verifying assertions of a retired key after a rotation', async () => {
    const first = await startProvider();
    await first.provider.accounts.create(ALICE, PASSWORD);
    const old = await issue(first.base);
    await first.stop();
    const kid = await rotateSigningKey(first.dataDir, first.clock.ms);
    const second = await startProvider({ dataDir: first.dataDir, clock: first.clock });
    try {
      const fresh = await issue(second.base);
      assert.equal(decodeAssertion(fresh).header.kid, kid);
      assert.notEqual(decodeAssertion(old).header.kid, kid);
      for (const token of [old, fresh]) {
        assert.equal(
          (await postJson(second.base, '/bsso/verify', { assertion: token })).status,
          200,
        );
      }
    } finally {
      await second.stop();
      await removeDir(first.dataDir);
    }
  });

  it('load the current key extractable, so assertions are signed with node:crypto', async () => {
    const dataDir = await tempDir();
    try {
      const ring = await createKeyRing(dataDir, Date.now());
      assert.equal(ring.current.privateKey.extractable, true);
      assert.equal(ring.current.privateKey.type, 'private');
      assert.deepEqual(ring.current.privateKey.usages, ['sign']);
      await ring.reload();
      assert.equal(ring.current.privateKey.extractable, true);
    } finally {
      await removeDir(dataDir);
    }
  });

  it('refuse to load a key file others can read', async () => {
    const dataDir = await tempDir();
    try {
      const config = { issuer: ISSUER, domains: [DOMAIN], dataDir, logger: silentLogger };
      await (await createProvider(config)).close();
      await chmod(join(dataDir, SIGNING_KEYS_FILE), 0o644);
      await assert.rejects(createProvider(config), /readable by others/);
    } finally {
      await removeDir(dataDir);
    }
  });
});

describe('configuration', () => {
  it('is validated at start', async () => {
    const dataDir = await tempDir();
    try {
      const base = { issuer: ISSUER, domains: [DOMAIN], dataDir, logger: silentLogger };
      for (const bad of [
        { ...base, issuer: 'http://mail.test' },
        { ...base, issuer: 'https://mail.test/' },
        { ...base, domains: [] },
        { ...base, domains: ['not a domain'] },
        { ...base, assertionLifetimeSeconds: 301 },
        { ...base, associationLifetimeSeconds: 10 },
        { ...base, allowedExtensionOrigins: ['https://evil.test'] },
      ]) {
        await assert.rejects(createProvider(bad), Error, JSON.stringify(bad));
      }
    } finally {
      await removeDir(dataDir);
    }
  });
});
