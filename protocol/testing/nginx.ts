// Debian's nginx as a reverse proxy in tests: started from a config in a temp folder, on a
// loopback port the OS picked, in front of an upstream on loopback. It appends the client's
// address to X-Forwarded-For, as a production proxy does. Shared by the provider's and the
// site's tests (the bsso-proxy sidecar behind nginx).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const NGINX = '/usr/sbin/nginx';

export interface Nginx {
  port: number;
  stop(): Promise<void>;
}

/** What is missing to run nginx here, or false (for skipUnlessCi). */
export function nginxMissing(): string | false {
  return existsSync(NGINX)
    ? false
    : `${NGINX} is missing: install Debian's nginx (.ci/install does)`;
}

/** Fails with a clear message, never skips, when nginx is not installed. */
export function requireNginx(): void {
  const missing = nginxMissing();
  if (missing) throw new Error(`${missing}.`);
}

export async function startNginx(upstreamPort: number): Promise<Nginx> {
  const port = await freePort();
  return startNginxHttp(
    () => `  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }`,
    port,
  );
}

/**
 * Starts nginx with `site` (server and upstream blocks, given the temp folder for any files
 * they need) inside an http block whose logs and temp paths live in that folder; resolves
 * once `port` accepts connections.
 */
export async function startNginxHttp(
  site: (dir: string) => string | Promise<string>,
  port: number,
): Promise<Nginx> {
  requireNginx();
  const dir = await mkdtemp(join(tmpdir(), 'bsso-nginx-'));
  const conf = join(dir, 'nginx.conf');
  const servers = await site(dir);
  await writeFile(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers}
}
`,
  );
  const check = spawnSync(NGINX, ['-t', '-q', '-p', dir, '-e', `${dir}/error.log`, '-c', conf], {
    encoding: 'utf8',
  });
  if (check.status !== 0) throw new Error(`nginx -t failed: ${check.stderr}`);
  const { stop } = await startDaemon(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', conf], {
    dir,
    ports: [port],
    name: 'nginx',
    diagnose: () => readFile(join(dir, 'error.log'), 'utf8'),
  });
  return { port, stop };
}
