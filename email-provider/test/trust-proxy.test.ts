// The 'trust proxy' setting (threat 50): parsed into what Express means, nonsense refused at
// start. Behind a real nginx: behind-nginx.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { readServerSettings } from '../src/env.ts';
import { createProvider } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';
import { parseTrustProxy } from '../src/trust-proxy.ts';
import { DOMAIN, ISSUER, removeDir, tempDir } from './helpers.ts';

const env = {
  BSSO_ISSUER: 'https://mail.test',
  BSSO_DOMAINS: 'mail.test',
  BSSO_DATA_DIR: '/var/lib/bsso',
  BSSO_TLS_CERT: '/etc/cert.pem',
  BSSO_TLS_KEY: '/etc/key.pem',
};

describe('trust proxy setting', () => {
  it('reads hop counts as numbers, true and false as booleans', () => {
    assert.equal(parseTrustProxy('1'), 1);
    assert.equal(parseTrustProxy(' 2 '.trim()), 2);
    assert.equal(parseTrustProxy('0'), 0);
    assert.equal(parseTrustProxy(3), 3);
    assert.equal(parseTrustProxy('true'), true);
    assert.equal(parseTrustProxy('false'), false);
    assert.equal(parseTrustProxy(''), false);
    assert.equal(parseTrustProxy(undefined), false);
  });

  it('reads addresses, CIDRs and range names as a validated list', () => {
    assert.deepEqual(parseTrustProxy('loopback'), ['loopback']);
    assert.deepEqual(parseTrustProxy('10.0.0.1, 192.168.0.0/16 ,fd00::/8,::1,uniquelocal'), [
      '10.0.0.1',
      '192.168.0.0/16',
      'fd00::/8',
      '::1',
      'uniquelocal',
    ]);
    assert.deepEqual(parseTrustProxy(['linklocal', '127.0.0.1']), ['linklocal', '127.0.0.1']);
  });

  for (const bad of [
    'yes',
    '1.5',
    '-1',
    '101',
    'loopback,',
    '10.0.0.0/33',
    '::/129',
    '0.0.0.0/0',
    '::/0',
    '10.0.0.0/8,0.0.0.0/0',
    '10.0.0.0/8/1',
    'proxy.example',
    '1e3',
    1.5,
    -1,
    [],
    [1],
    {},
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseTrustProxy(bad), TypeError);
    });
  }

  it('BSSO_TRUST_PROXY=1 is one hop, not the address 0.0.0.1', () => {
    const settings = readServerSettings({ ...env, BSSO_TRUST_PROXY: '1' });
    assert.equal(settings.provider.trustProxy, 1);
    // What Express makes of it: the right-most forwarded address is the client.
    const app = express();
    app.set('trust proxy', settings.provider.trustProxy);
    const trust = app.get('trust proxy fn') as (addr: string, hop: number) => boolean;
    assert.equal(trust('127.0.0.1', 0), true);
    assert.equal(trust('203.0.113.9', 1), false);
  });

  it('BSSO_TRUST_PROXY nonsense stops the start with a message naming it', () => {
    assert.throws(
      () => readServerSettings({ ...env, BSSO_TRUST_PROXY: 'yes please' }),
      /BSSO_TRUST_PROXY must be true, false, a number of proxy hops/,
    );
    assert.deepEqual(
      readServerSettings({ ...env, BSSO_TRUST_PROXY: 'loopback,10.0.0.0/8' }).provider.trustProxy,
      ['loopback', '10.0.0.0/8'],
    );
    assert.equal(readServerSettings(env).provider.trustProxy, undefined);
  });

  it('createProvider refuses an invalid trustProxy before opening anything', async () => {
    const dataDir = await tempDir();
    try {
      await assert.rejects(
        createProvider({
          issuer: ISSUER,
          domains: [DOMAIN],
          dataDir,
          logger: silentLogger,
          trustProxy: 'everyone',
        }),
        /trustProxy must be/,
      );
    } finally {
      await removeDir(dataDir);
    }
  });
});
