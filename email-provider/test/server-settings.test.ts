// The operations variables of env.ts: BSSO_BEHIND_TLS_PROXY, BSSO_METRICS_TOKEN_FILE,
// BSSO_SHUTDOWN_TIMEOUT_MS; nonsense stops the start with a message naming the variable.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readServerSettings } from '../src/env.ts';
import { removeDir, tempDir } from './helpers.ts';

const BASE = {
  BSSO_ISSUER: 'https://mail.test',
  BSSO_DOMAINS: 'mail.test',
  BSSO_DATA_DIR: '/var/lib/bsso-provider',
};

describe('server settings for operations', () => {
  it('BSSO_BEHIND_TLS_PROXY: plain http only behind a trusted proxy, never with a certificate', () => {
    const s = readServerSettings({ ...BASE, BSSO_BEHIND_TLS_PROXY: '1', BSSO_TRUST_PROXY: '1' });
    assert.equal(s.behindTlsProxy, true);
    assert.equal(s.tls, undefined);
    assert.equal(s.provider.developmentAllowLocalhostHttp, false, 'URLs stay https-only');
    for (const trust of [undefined, '0', 'false']) {
      assert.throws(
        () =>
          readServerSettings({
            ...BASE,
            BSSO_BEHIND_TLS_PROXY: '1',
            ...(trust === undefined ? {} : { BSSO_TRUST_PROXY: trust }),
          }),
        /BSSO_TRUST_PROXY/,
      );
    }
    assert.throws(
      () =>
        readServerSettings({
          ...BASE,
          BSSO_BEHIND_TLS_PROXY: '1',
          BSSO_TRUST_PROXY: '1',
          BSSO_TLS_CERT: 'c.pem',
          BSSO_TLS_KEY: 'k.pem',
        }),
      /BSSO_TLS_CERT/,
    );
    assert.throws(
      () => readServerSettings({ ...BASE, BSSO_BEHIND_TLS_PROXY: 'yes' }),
      /BSSO_BEHIND_TLS_PROXY/,
    );
  });

  it('BSSO_METRICS_TOKEN_FILE: the first line of the file; unreadable or empty stops', async () => {
    const dir = await tempDir();
    try {
      const env = { ...BASE, BSSO_DEVELOPMENT_HTTP: '1' };
      assert.equal(readServerSettings(env).provider.metricsToken, undefined);
      const file = join(dir, 'token');
      await writeFile(file, 'the-token-0123456789abcdef0123456789\nignored\n');
      const s = readServerSettings({ ...env, BSSO_METRICS_TOKEN_FILE: file });
      assert.equal(s.provider.metricsToken, 'the-token-0123456789abcdef0123456789');
      assert.throws(
        () => readServerSettings({ ...env, BSSO_METRICS_TOKEN_FILE: join(dir, 'missing') }),
        /BSSO_METRICS_TOKEN_FILE: cannot read/,
      );
      await writeFile(file, '\n');
      assert.throws(
        () => readServerSettings({ ...env, BSSO_METRICS_TOKEN_FILE: file }),
        /BSSO_METRICS_TOKEN_FILE: .* is empty/,
      );
    } finally {
      await removeDir(dir);
    }
  });

  it('BSSO_SHUTDOWN_TIMEOUT_MS: default 10 s, milliseconds up to 10 minutes', () => {
    const env = { ...BASE, BSSO_DEVELOPMENT_HTTP: '1' };
    assert.equal(readServerSettings(env).shutdownTimeoutMs, 10_000);
    assert.equal(
      readServerSettings({ ...env, BSSO_SHUTDOWN_TIMEOUT_MS: '0' }).shutdownTimeoutMs,
      0,
    );
    for (const bad of ['-1', '1.5', 'soon', '600001']) {
      assert.throws(
        () => readServerSettings({ ...env, BSSO_SHUTDOWN_TIMEOUT_MS: bad }),
        /BSSO_SHUTDOWN_TIMEOUT_MS/,
      );
    }
  });
});
