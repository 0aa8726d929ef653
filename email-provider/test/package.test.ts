// The installable program: `npm pack` of @bsso/protocol and @bsso/email-provider, both
// tarballs installed with `npm install -g --prefix <empty temp folder>` as the README tells
// operators, then the installed `bsso-provider` (compiled JavaScript, shebang, Node 24
// first on PATH) starts there and answers, and `bsso-provider-users` manages its accounts.
// Nothing resolves from this repository: the temp folder has no node_modules above it.
// Each package is staged (its "files" copied, dist compiled fresh into the stage) so the
// test packs the current source without rewriting the workspaces' own dist. The shipped
// systemd unit is checked by `systemd-analyze verify` against the installed program.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Browser, PASSWORD, removeDir, tempDir } from './helpers.ts';
import { type MainProcess, startMain } from './processes.ts';
import { UNIT_FILE } from './unit-file.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
// Node 24 (the repository's `node` devDependency) first, as on a server with Node 24.
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) =>
  existsSync(p),
);

/** This process's environment without npm's own (npm test sets workspace and prefix). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  }
  return env;
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  stdin = '',
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...cleanEnv(), PATH, ...env } });
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
    child.stdin.end(stdin);
  });
}

async function ok(result: Promise<{ code: number; out: string; err: string }>, what: string) {
  const r = await result;
  assert.equal(r.code, 0, `${what} failed:\n${r.out}\n${r.err}`);
  return r;
}

/** Copies a workspace's package.json, README and "files" (dist compiled afresh) to `stage`. */
async function stagePackage(workspace: string, stage: string): Promise<void> {
  const source = join(ROOT, workspace);
  const pkg = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as {
    files: string[];
  };
  await mkdir(stage, { recursive: true });
  for (const entry of ['package.json', 'README.md', ...pkg.files]) {
    if (entry === 'dist' || !existsSync(join(source, entry))) continue;
    await cp(join(source, entry), join(stage, entry), { recursive: true });
  }
  await ok(
    run(
      process.execPath,
      [TSC, '-p', 'tsconfig.build.json', '--outDir', join(stage, 'dist')],
      source,
    ),
    `tsc for ${workspace}`,
  );
}

/** `npm pack` in the stage (its prepack build is already done); the tarball's path. */
async function pack(stage: string, into: string): Promise<string> {
  const packed = await ok(
    run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], stage),
    'npm pack',
  );
  const [info] = JSON.parse(packed.out) as { filename: string; files: { path: string }[] }[];
  assert.ok(info);
  return join(into, info.filename);
}

describe('npm pack, install in an empty folder, run bsso-provider', () => {
  let dir: string;
  let prefix: string;
  let main: MainProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    dir = await tempDir();
    const tarballs = join(dir, 'tarballs');
    await mkdir(tarballs);
    const packed: string[] = [];
    for (const workspace of ['protocol', 'email-provider']) {
      const stage = join(dir, 'stage', workspace);
      await stagePackage(workspace, stage);
      packed.push(await pack(stage, tarballs));
    }
    prefix = join(dir, 'prefix');
    await mkdir(prefix);
    await ok(
      run(
        'npm',
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          ...packed,
        ],
        dir,
      ),
      'npm install -g',
    );
    env = {
      PATH,
      BSSO_ISSUER: 'http://localhost',
      BSSO_DOMAINS: 'mail.test',
      BSSO_DATA_DIR: join(dir, 'data'),
      BSSO_PORT: '0',
      BSSO_HOST: '127.0.0.1',
      BSSO_DEVELOPMENT_HTTP: '1',
    };
  });

  after(async () => {
    if (main) assert.equal(await main.stop(), 0);
    await removeDir(dir);
  });

  it('installs two bins that run the compiled JavaScript', async () => {
    const installed = join(prefix, 'lib/node_modules/@bsso/email-provider');
    const pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    assert.equal(pkg.private, undefined);
    assert.equal(pkg.engines.node, '>=24');
    for (const bin of ['bsso-provider', 'bsso-provider-users']) {
      assert.ok(existsSync(join(prefix, 'bin', bin)), bin);
    }
    const head = await readFile(join(installed, 'dist/main.js'), 'utf8');
    assert.ok(head.startsWith('#!/usr/bin/env node\n'));
    assert.ok(existsSync(join(installed, 'dist/index.d.ts')), 'types');
    assert.ok(existsSync(join(installed, 'docs/bsso-provider.service')), 'docs');
    assert.ok(existsSync(join(prefix, 'lib/node_modules/@bsso/protocol/dist/index.js')));
  });

  it('bsso-provider starts and answers; bsso-provider-users manages its accounts', async () => {
    const users = join(prefix, 'bin/bsso-provider-users');
    await ok(run(users, ['add', 'alice@mail.test'], dir, env, `${PASSWORD}\n`), 'users add');
    assert.equal((await ok(run(users, ['list'], dir, env), 'users list')).out, 'alice@mail.test\n');
    main = await startMain(env, [join(prefix, 'bin/bsso-provider')]);
    const wf = await fetch(`${main.base}/.well-known/webfinger?resource=acct:alice@mail.test`);
    assert.equal(wf.status, 200);
    assert.equal(((await wf.json()) as { subject: string }).subject, 'acct:alice@mail.test');
    const config = await fetch(`${main.base}/.well-known/bsso-provider`);
    assert.equal(((await config.json()) as { issuer: string }).issuer, 'http://localhost');
    assert.equal((await fetch(`${main.base}/healthz`)).status, 200);
    assert.equal((await fetch(`${main.base}/readyz`)).status, 200);
    const alice = new Browser(main.base);
    assert.equal((await alice.signIn('alice@mail.test', PASSWORD)).status, 303);
    const sessions = await ok(run(users, ['sessions', 'alice@mail.test'], dir, env), 'sessions');
    assert.equal(sessions.out.trim().split('\n').length, 1);
  });

  it('the shipped systemd unit passes systemd-analyze verify', {
    skip: SYSTEMD_ANALYZE === undefined && 'systemd-analyze is not installed',
  }, async () => {
    // The unit as shipped, ExecStart pointing at this install's program.
    const unit = (await readFile(UNIT_FILE, 'utf8')).replace(
      /^ExecStart=\/usr\/local\/bin\/bsso-provider$/m,
      `ExecStart=${join(prefix, 'bin/bsso-provider')}`,
    );
    assert.ok(unit.includes(`ExecStart=${prefix}`), 'the unit starts /usr/local/bin/bsso-provider');
    const path = join(dir, 'bsso-provider.service');
    await writeFile(path, unit);
    const verified = spawnSync(SYSTEMD_ANALYZE ?? '', ['verify', '--man=no', path], {
      encoding: 'utf8',
    });
    // Unknown keys are only warnings with exit status 0: any output is a failure.
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal(`${verified.stdout}${verified.stderr}`, '');
  });
});
