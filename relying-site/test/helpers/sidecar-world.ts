// What the bsso-proxy tests run against: an upstream app that is not Node (Python's
// http.server echoing what it received), raw HTTP requests that send headers exactly as
// written (case, duplicates, Connection tricks), and the documented nginx configs
// (examples/nginx-*.conf) templated with the test's ports and certificate.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

export const PYTHON = '/usr/bin/python3';
const ECHO = join(import.meta.dirname, 'echo-upstream.py');
const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

/** What the upstream received. */
export interface Seen {
  method: string;
  path: string;
  headers: [string, string][];
  body: string;
}

export interface Upstream {
  port: number;
  /** Every request it received so far (from its log, also those whose answer was lost). */
  seen(): Seen[];
  stop(): Promise<void>;
}

export function pythonMissing(): string | false {
  return existsSync(PYTHON) ? false : `${PYTHON} is missing: install Debian's python3`;
}

/** Starts the echo app on a port the OS picks; resolves once it printed that port. */
export async function startEchoUpstream(): Promise<Upstream> {
  const child: ChildProcess = spawn(PYTHON, ['-u', ECHO, '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: Seen[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(Number(listening[1]));
        else if (line.startsWith('{')) log.push(JSON.parse(line) as Seen);
        nl = buffer.indexOf('\n');
      }
    });
    void exited.then(() => reject(new Error(`the echo upstream exited: ${stderr}`)));
  });
  return {
    port,
    seen: () => [...log],
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The header values of `name` (case-insensitive, `_` as `-`) among what the app saw. */
export function headerValues(seen: Seen, name: string): string[] {
  const wanted = name.toLowerCase();
  return seen.headers
    .filter(([k]) => k.toLowerCase().replaceAll('_', '-') === wanted)
    .map(([, v]) => v);
}

export interface RawAnswer {
  status: number;
  /** Header lines, lower-case names. */
  headers: [string, string][];
  body: string;
}

/**
 * Sends `head` (request line and header lines, as written) and `body` over a fresh
 * connection (TLS when `tls` is given) and reads one answer (Content-Length or until close).
 */
export function rawRequest(
  port: number,
  head: string[],
  body = '',
  tls?: { servername: string; ca: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, servername: tls.servername, ca: tls.ca })
      : tcpConnect({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers = lines.map((line): [string, string] => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      });
      const length = headers.find(([k]) => k === 'content-length')?.[1];
      const rest = data.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      if (length !== undefined && rest.length < Number(length)) return false;
      done = true;
      socket.destroy();
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: rest.subarray(0, length === undefined ? rest.length : Number(length)).toString(),
      });
      return true;
    };
    socket.on(tls ? 'secureConnect' : 'connect', () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
    });
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      finish();
    });
    socket.on('end', () => {
      if (!done && !finish()) reject(new Error(`incomplete answer: ${data.toString()}`));
    });
    socket.on('error', (err) => {
      if (!done) reject(err);
    });
  });
}

/** A documented nginx config with the test's ports, name and certificate files. */
export async function nginxSite(
  example: 'nginx-proxy.conf' | 'nginx-auth-request.conf',
  dir: string,
  ports: { listen: number; app?: number; sidecar: number },
  tls: { certPem: string; keyPem: string },
): Promise<string> {
  await writeFile(join(dir, 'site.pem'), tls.certPem);
  await writeFile(join(dir, 'site.key'), tls.keyPem, { mode: 0o600 });
  const text = await readFile(join(EXAMPLES, example), 'utf8');
  const replace = (from: string, to: string, s: string) => {
    if (!s.includes(from)) throw new Error(`${example} no longer has ${from}`);
    return s.replaceAll(from, to);
  };
  let conf = replace('listen 443 ssl;', `listen 127.0.0.1:${ports.listen} ssl;`, text);
  conf = replace('server_name site.example;', 'server_name site.test;', conf);
  conf = replace('/etc/ssl/site.example.pem', join(dir, 'site.pem'), conf);
  conf = replace('/etc/ssl/site.example.key', join(dir, 'site.key'), conf);
  conf = replace('127.0.0.1:8081', `127.0.0.1:${ports.sidecar}`, conf);
  if (ports.app !== undefined) conf = replace('127.0.0.1:8080', `127.0.0.1:${ports.app}`, conf);
  return conf;
}
