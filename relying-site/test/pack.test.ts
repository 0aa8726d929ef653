// The published packages as a user gets them (issue 15, Done when): `npm pack` of
// @bsso/protocol and @bsso/relying-site, installed in an empty folder with Express,
// Passport, Fastify and Hono from the registry, and the README's lines for each stack run
// exactly as written there, each answering a challenge. Heavy (builds, the registry): runs
// under CI or with BSSO_PACK_TEST=1, skipped elsewhere.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { isCi, skipUnlessCi } from '@bsso/protocol/testing';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const skip = skipUnlessCi(
  !isCi() && process.env.BSSO_PACK_TEST !== '1' && 'heavy: set CI=1 or BSSO_PACK_TEST=1',
);

/** The README's runnable snippets: a ```ts block right after `<!-- readme-snippet: name -->`. */
function snippets(): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- readme-snippet: (\S+) -->\n```ts\n([\s\S]*?)```/g)) {
    found.set(m[1] ?? '', m[2] ?? '');
  }
  return found;
}

/** The version the monorepo tests with, so the folder gets what the suite ran against. */
function testedVersion(name: string): string {
  const manifest = join(root, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('npm pack: the README lines run from the packed packages', { skip }, () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bsso-pack-'));
    const workspaces = ['-w', '@bsso/protocol', '-w', '@bsso/relying-site'];
    await run('npm', ['run', 'build', ...workspaces], { cwd: root });
    const { stdout } = await run(
      'npm',
      ['pack', ...workspaces, '--json', '--pack-destination', dir],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
    );
    const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
      name: string;
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = (name: string) => {
      const entry = packed.find((p) => p.name === name);
      assert.ok(entry, `${name} packed`);
      checkExports(name, new Set(entry.files.map((f) => f.path)));
      return `file:./${entry.filename}`;
    };
    const frameworks = [
      'express',
      'express-session',
      'passport',
      'fastify',
      'hono',
      '@hono/node-server',
    ];
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'bsso-pack-check',
        private: true,
        type: 'module',
        dependencies: {
          '@bsso/protocol': tarball('@bsso/protocol'),
          '@bsso/relying-site': tarball('@bsso/relying-site'),
          ...Object.fromEntries(frameworks.map((name) => [name, testedVersion(name)])),
        },
        // The site's dependency on @bsso/protocol is the tarball too, never the registry.
        overrides: { '@bsso/protocol': '$@bsso/protocol' },
      }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the README has a runnable snippet per stack', () => {
    assert.deepEqual([...snippets().keys()].sort(), [
      'express',
      'fastify',
      'hono',
      'node-http',
      'passport',
    ]);
  });

  for (const name of ['express', 'passport', 'fastify', 'hono', 'node-http']) {
    test(`README ${name}: answers a challenge`, async () => {
      const code = snippets().get(name);
      assert.ok(code, name);
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, code);
      const port = await freePort();
      const child = spawn(process.execPath, [file], {
        cwd: dir,
        env: { ...process.env, PORT: String(port), SESSION_SECRET: 'pack test secret' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk) => {
        stderr += String(chunk);
      });
      try {
        const res = await challenge(port, child, () => stderr);
        assert.equal(res.status, 200, stderr);
        const body = (await res.json()) as { nonce?: unknown; expires_in?: unknown };
        assert.match(String(body.nonce), /^[A-Za-z0-9_-]{43}$/);
        assert.equal(body.expires_in, 300);
        assert.match(res.headers.getSetCookie()[0] ?? '', /^__Host-bsso_browser=/);
      } finally {
        child.kill();
      }
    });
  }
});

/** Every `exports` entry (but the monorepo-only ones) names files that are in the tarball. */
function checkExports(name: string, files: Set<string>): void {
  const dir = name === '@bsso/protocol' ? 'protocol' : 'relying-site';
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
    exports: Record<string, string | Record<string, string>>;
  };
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    const targets = typeof target === 'string' ? { default: target } : target;
    for (const [condition, path] of Object.entries(targets)) {
      if (condition === 'bsso-source') continue;
      assert.ok(files.has(path.replace(/^\.\//, '')), `${name} ${subpath} ${condition}: ${path}`);
    }
  }
}

/** Polls the snippet's challenge until its server listens. */
async function challenge(
  port: number,
  child: ChildProcess,
  stderr: () => string,
): Promise<Response> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) assert.fail(`exited ${child.exitCode}: ${stderr()}`);
    try {
      return await fetch(`http://127.0.0.1:${port}/bsso?bsso=challenge&domain=mail.test`, {
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
