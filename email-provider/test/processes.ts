// The provider as operators run it: `bsso-provider` (src/main.ts) and `bsso-provider-users`
// (src/cli.ts) as child processes with an environment, the way systemd starts them. The
// server listens on a port the OS picks; its JSON log lines are read as they come.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

export type Env = Record<string, string>;

/** The variables of a development provider on loopback (plain http, issuer localhost). */
export function mainEnv(dataDir: string, extra: Env = {}): Env {
  return {
    BSSO_ISSUER: 'http://localhost',
    BSSO_DOMAINS: 'mail.test',
    BSSO_DATA_DIR: dataDir,
    BSSO_PORT: '0',
    BSSO_HOST: '127.0.0.1',
    BSSO_DEVELOPMENT_HTTP: '1',
    ...extra,
  };
}

export interface MainProcess {
  child: ChildProcess;
  port: number;
  base: string;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line (past or future) whose event is `event`. */
  waitForEvent(
    event: string,
    match?: (line: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** SIGTERM if still running, then waits for the exit. */
  stop(): Promise<number | string>;
}

/** Starts `command` (default: src/main.ts from source) and waits for its 'listening' line. */
export async function startMain(
  env: Env,
  command: readonly string[] = [process.execPath, '--conditions=bsso-source', MAIN],
): Promise<MainProcess> {
  const [file = process.execPath, ...args] = command;
  const child = spawn(file, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: {
    test: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let text = '';
  let pending = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    text += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const raw of lines) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const waitForEvent = (
    event: string,
    match: (l: Record<string, unknown>) => boolean = () => true,
  ) => {
    const test = (l: Record<string, unknown>) => l.event === event && match(l);
    const seen = logs.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.push({ test, resolve });
      exited.then((code) => reject(new Error(`main exited (${code}) before ${event}: ${text}`)));
    });
  };
  const listening = await waitForEvent('listening');
  const port = Number(listening.port);
  return {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    logs,
    waitForEvent,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the users CLI; `stdin` is written then closed. */
export function runUsers(
  args: string[],
  env: Env,
  stdin = '',
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=bsso-source', CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
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
    child.stdin.end(stdin);
  });
}
