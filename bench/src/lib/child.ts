// Servers under load run in their own processes, so the load generator (autocannon, in the
// parent) does not share their event loop. A tiny request/answer protocol over IPC.
import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export interface ChildServer {
  call<T>(type: string, args?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

type Handlers = Record<string, (args: Record<string, unknown>) => Promise<unknown>>;

/** In the parent: forks `file` (a .ts module calling serveCalls) and waits until it is ready. */
export async function startChild(file: string): Promise<ChildServer> {
  const child: ChildProcess = fork(file, [], {
    execArgv: ['--conditions=bsso-source'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`server process exited (${code})`));
    pending.clear();
  });
  const server: ChildServer = {
    call<T>(type: string, args: Record<string, unknown> = {}) {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, type, args });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  await server.call('ping');
  return server;
}

/**
 * BENCH_CPU_PROF=<dir>: the server's V8 CPU profile during each timed run, written to
 * <dir>/<name>.cpuprofile (for finding out where a missed target goes).
 */
export async function profiled<T>(
  server: ChildServer,
  name: string,
  run: () => Promise<T>,
): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return run();
  await server.call('profileStart');
  try {
    return await run();
  } finally {
    await server.call('profileStop', { file: join(dir, `${name}.cpuprofile`) });
  }
}

/** In the child: answers the parent's calls with `handlers`. */
export function serveCalls(handlers: Handlers): void {
  const inspector = new Session();
  const all: Handlers = {
    ping: async () => 'pong',
    async profileStart() {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
      return true;
    },
    async profileStop(args) {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(String(args.file), JSON.stringify(profile));
      inspector.disconnect();
      return true;
    },
    ...handlers,
  };
  process.on('message', (m: { id: number; type: string; args: Record<string, unknown> }) => {
    const handler = all[m.type];
    const run = handler ? handler(m.args) : Promise.reject(new Error(`no call ${m.type}`));
    run.then(
      (result) => process.send?.({ id: m.id, result }),
      (err: unknown) => process.send?.({ id: m.id, error: String((err as Error)?.stack ?? err) }),
    );
  });
  process.on('SIGTERM', () => process.exit(0));
  // The benchmark ended (or died): no orphaned servers.
  process.on('disconnect', () => process.exit(0));
}
