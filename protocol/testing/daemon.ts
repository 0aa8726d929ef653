// A real server process for a test (nginx, Dovecot, slapd): started in the foreground as a
// child of the test, waited for until it accepts connections on every port it was given
// (bounded, by connecting), and stopped with its temp folder. One home for the start, the
// wait and the clean-up the server helpers share.
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { canConnect, waitUntil } from './ports.ts';

export interface Daemon {
  /** What the process wrote on stderr so far (some servers log there). */
  stderr(): string;
  /** Whether the process still runs and accepts connections on `port`. */
  running(port: number): Promise<boolean>;
  /** Ends the process (SIGTERM), waits for it, removes `dir`. */
  stop(): Promise<void>;
}

export async function startDaemon(
  command: string,
  args: readonly string[],
  options: {
    /** The server's temp folder, removed by stop(). */
    dir: string;
    /** Loopback ports it must accept connections on before it counts as started. */
    ports: readonly number[];
    /** Name for errors. */
    name: string;
    /** More to say when it did not start (e.g. its log file). */
    diagnose?: () => Promise<string>;
  },
): Promise<Daemon> {
  const child: ChildProcess = spawn(command, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(options.dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error('exited');
      for (const port of options.ports) if (!(await canConnect(port))) return false;
      return true;
    });
  } catch {
    const more = (await options.diagnose?.().catch(() => '')) ?? '';
    await stop();
    throw new Error(`${options.name} did not start: ${stderr.slice(-4000)}${more}`);
  }
  return {
    stderr: () => stderr,
    running: async (port) => child.exitCode === null && (await canConnect(port)),
    stop,
  };
}
