// bsso-proxy's configuration (src/proxy/config.ts): flags win over the environment, every
// problem is named at once, defaults as documented.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadProxyConfig, ProxyConfigError, ProxyHelpRequested } from '../src/proxy/config.ts';

const ENV = {
  BSSO_SITE_ENDPOINT: 'https://site.example/bsso',
  BSSO_PROXY_UPSTREAM: 'http://127.0.0.1:8080',
};

function problems(argv: string[], env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadProxyConfig(argv, env);
  } catch (err) {
    assert.ok(err instanceof ProxyConfigError);
    assert.equal(err.code, 'invalid_config');
    return err.problems;
  }
  assert.fail('expected a configuration error');
}

describe('bsso-proxy configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsso-proxy-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults', () => {
    const config = loadProxyConfig([], ENV);
    assert.equal(config.mode, 'proxy');
    assert.equal(config.upstream?.origin, 'http://127.0.0.1:8080');
    assert.equal(config.endpoint, 'https://site.example/bsso');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8081);
    assert.equal(config.header, 'X-BSSO-Email');
    assert.equal(config.trustProxy, 0);
    assert.equal(config.tls, undefined);
    assert.equal(config.redis, undefined);
  });

  test('a flag wins over its environment variable', () => {
    const config = loadProxyConfig(
      ['--port', '9000', '--upstream', 'https://app.internal:8443', '--trust-proxy', '2'],
      {
        ...ENV,
        BSSO_PROXY_PORT: '7000',
        REDIS_URL: 'redis://127.0.0.1:6379',
        BSSO_REDIS_PREFIX: 'p:',
      },
    );
    assert.equal(config.port, 9000);
    assert.equal(config.upstream?.origin, 'https://app.internal:8443');
    assert.equal(config.trustProxy, 2);
    assert.deepEqual(config.redis, { url: 'redis://127.0.0.1:6379', prefix: 'p:' });
  });

  test('auth-request mode needs no upstream and refuses one', () => {
    const { BSSO_SITE_ENDPOINT } = ENV;
    assert.equal(
      loadProxyConfig(['--mode', 'auth-request'], { BSSO_SITE_ENDPOINT }).mode,
      'auth-request',
    );
    assert.match(
      problems(['--mode', 'auth-request'], ENV).join('\n'),
      /not used in mode auth-request/,
    );
  });

  test('every problem at once', () => {
    const found = problems(
      ['--header', 'Cookie', '--trust-proxy', 'yes', '--tls-cert', join(dir, 'missing.pem')],
      {
        BSSO_SITE_ENDPOINT: 'https://site.example/bsso?x=1',
        BSSO_PROXY_UPSTREAM: 'http://app/path',
      },
    );
    assert.equal(found.length, 6, found.join('\n'));
    const text = found.join('\n');
    assert.match(text, /--endpoint \(BSSO_SITE_ENDPOINT\): .*query/);
    assert.match(text, /--upstream \(BSSO_PROXY_UPSTREAM\): must be an origin only/);
    assert.match(text, /give both, or neither/);
    assert.match(text, /cannot read .*missing\.pem \(ENOENT\)/);
    assert.match(text, /--header \(BSSO_PROXY_HEADER\): Cookie is HTTP's own header/);
    assert.match(text, /--trust-proxy \(BSSO_TRUST_PROXY\): must be the number of proxies/);
  });

  test('required values, unknown flags and a header that is no token', () => {
    assert.match(problems([], {}).join('\n'), /--endpoint \(BSSO_SITE_ENDPOINT\) is required/);
    assert.match(problems(['--nope'], ENV).join('\n'), /Unknown option '--nope'/);
    assert.match(problems(['--header', 'X BSSO'], ENV).join('\n'), /must be a header name/);
    assert.match(problems(['--upstream', 'ftp://app'], ENV).join('\n'), /http:\/\/ or https:\/\//);
    assert.match(problems(['--upstream', 'http://u:p@app'], ENV).join('\n'), /credentials/);
  });

  test('TLS files are read once, at start', () => {
    writeFileSync(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\n');
    writeFileSync(join(dir, 'key.pem'), 'not pem');
    assert.match(
      problems(['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')], ENV).join(
        '\n',
      ),
      /key\.pem is not a PEM file/,
    );
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');
    const config = loadProxyConfig(
      ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')],
      ENV,
    );
    assert.match(config.tls?.key ?? '', /BEGIN PRIVATE KEY/);
  });

  test('--help', () => {
    assert.throws(() => loadProxyConfig(['--help'], {}), ProxyHelpRequested);
  });
});

test('the package bin is the compiled src/bin/bsso-proxy.ts, a node script', () => {
  const root = join(import.meta.dirname, '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
    files: string[];
  };
  assert.equal(pkg.bin['bsso-proxy'], './dist/bin/bsso-proxy.js');
  assert.ok(pkg.files.includes('dist'));
  // tsc -p tsconfig.build.json compiles src/ to dist/ and keeps the first line.
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
    compilerOptions: { rootDir: string; outDir: string };
  };
  assert.deepEqual([build.compilerOptions.rootDir, build.compilerOptions.outDir], ['src', 'dist']);
  const source = readFileSync(join(root, 'src', 'bin', 'bsso-proxy.ts'), 'utf8');
  assert.ok(source.startsWith('#!/usr/bin/env node\n'));
});
