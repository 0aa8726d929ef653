// Test fixtures: a provider on a temporary data directory served over http on 127.0.0.1,
// an injected clock, and a tiny cookie-keeping client.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CookieJar } from '@bsso/protocol/testing';
import { createProvider, type Provider, type ProviderOptions, silentLogger } from '../src/index.ts';

export const ISSUER = 'https://mail.test';
export const DOMAIN = 'mail.test';
export const EXTENSION_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';
export const SITE = 'https://site.test';
export const AUDIENCE = 'https://site.test/bsso';
export const PASSWORD = 'correct horse battery';
export const START = Date.UTC(2026, 0, 1, 12, 0, 0);

export interface Clock {
  ms: number;
}

export interface Running {
  provider: Provider;
  base: string;
  clock: Clock;
  dataDir: string;
  /** Stops the server and closes the provider (the data directory stays). */
  stop(): Promise<void>;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'bsso-provider-test-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function startProvider(
  options: Partial<ProviderOptions> & { dataDir?: string; clock?: Clock } = {},
): Promise<Running> {
  const dataDir = options.dataDir ?? (await tempDir());
  const clock = options.clock ?? { ms: START };
  const { clock: _c, ...rest } = options;
  const provider = await createProvider({
    issuer: ISSUER,
    domains: [DOMAIN],
    logger: silentLogger,
    sweepIntervalMs: 0,
    now: () => clock.ms,
    ...rest,
    dataDir,
  });
  const server: Server = createServer(provider.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    provider,
    base: `http://127.0.0.1:${port}`,
    clock,
    dataDir,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await provider.close();
    },
  };
}

/** A client that keeps cookies like a browser would (names only; no attributes). */
export class Browser extends CookieJar {
  readonly base: string;

  constructor(base: string) {
    super({ dropEmpty: true });
    this.base = base;
  }

  cookieHeader(): string {
    return this.header();
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.cookieHeader());
    const res = await fetch(this.base + path, { ...init, headers, redirect: 'manual' });
    this.keep(res);
    return res;
  }

  /** GETs the sign-in page and returns its CSRF token. */
  async csrf(path = '/signin'): Promise<string> {
    const page = await (await this.fetch(path)).text();
    const match = /name="csrf_token" value="([^"]+)"/.exec(page);
    if (!match?.[1]) throw new Error('no csrf token on the page');
    return match[1];
  }

  async postForm(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  async signIn(email: string, password: string, extra: Record<string, string> = {}) {
    const csrf_token = await this.csrf();
    return this.postForm('/signin', { csrf_token, email, password, ...extra });
  }

  /** An assertion request as the extension's background makes it. */
  async askAssertion(body: unknown, origin: string | null = EXTENSION_ORIGIN): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (origin !== null) headers.origin = origin;
    return this.fetch('/bsso/assertion', {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
  }
}

export async function postJson(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function nonce(): string {
  return 'n'.repeat(43);
}

export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: string };
  return body.error ?? '';
}
