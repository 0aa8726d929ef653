// Starts src/main.ts as a real https server with a throwaway certificate made by openssl.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hasOpenssl, makeTestPki, skipUnlessCi } from '@bsso/protocol/testing';
import { removeDir, tempDir } from './helpers.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function get(port: number, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, servername: 'mail.test', ca, method: 'GET' },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// Skipped without openssl; under CI that fails instead.
const skip = skipUnlessCi(!hasOpenssl() && 'openssl is not installed');

describe('main over https', { skip }, () => {
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let ca: string;

  before(async () => {
    dir = await tempDir();
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    const pki = makeTestPki(['mail.test']);
    await writeFile(certFile, pki.certPem);
    await writeFile(keyFile, pki.keyPem, { mode: 0o600 });
    ca = pki.caPem;
    child = spawn(process.execPath, ['--conditions=bsso-source', main], {
      env: {
        ...process.env,
        BSSO_ISSUER: 'https://mail.test',
        BSSO_DOMAINS: 'mail.test',
        BSSO_DATA_DIR: join(dir, 'data'),
        BSSO_PORT: '0',
        BSSO_HOST: '127.0.0.1',
        BSSO_TLS_CERT: certFile,
        BSSO_TLS_KEY: keyFile,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    port = await new Promise<number>((resolve, reject) => {
      let log = '';
      child.stderr?.on('data', (d) => {
        log += d;
        const match = /"event":"listening".*"port":(\d+)/.exec(log);
        if (match?.[1]) resolve(Number(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`main exited with ${code}: ${log}`)));
    });
  });

  after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await removeDir(dir);
  });

  it('serves WebFinger and the configuration document over TLS', async () => {
    const wf = await get(port, '/.well-known/webfinger?resource=acct:alice@mail.test', ca);
    assert.equal(wf.status, 200);
    assert.equal(JSON.parse(wf.body).subject, 'acct:alice@mail.test');
    const config = await get(port, '/.well-known/bsso-provider', ca);
    assert.equal(JSON.parse(config.body).issuer, 'https://mail.test');
  });
});
