// A load client that acts as many browsers with the extension, at the HTTP level: each
// browser is signed in at the provider once, then signs in to the site again and again:
// challenge at one site instance (its own cookie jar), assertion request to a provider
// instance (extension Origin, provider session cookie), delivery to the other site
// instance, then the new session is checked at the first. Some assertions are replayed.
import { Agent, request } from 'node:https';
import type { Cluster, Instance } from './cluster.ts';
import { SITE_ENDPOINT } from './topology.ts';

export const EXTENSION_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';
const SITE_ORIGIN = new URL(SITE_ENDPOINT).origin;

interface Answer {
  status: number;
  setCookies: string[];
  location: string | undefined;
  text: string;
}

class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  keep(lines: string[]): void {
    for (const line of lines) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
}

export interface LoadOptions {
  /** Complete sign-ins to make. */
  signIns: number;
  /** Browsers working at the same time. */
  concurrency: number;
  /** Stop starting new sign-ins after this long (ms). */
  maxDurationMs?: number;
  /** Replay every n-th assertion at the challenge instance; default 20. */
  replayEvery?: number;
  /**
   * Run `action` once `after` sign-ins have completed; the run goes on meanwhile, but
   * sign-in number `before` and later wait for the action to finish (default: no wait).
   */
  events?: { after: number; before?: number; action: () => Promise<void> }[];
}

export interface LoadResult {
  completed: number;
  errors: string[];
  /** Milliseconds per sign-in (challenge to session), in completion order. */
  latencies: number[];
  durationMs: number;
  nonces: Set<string>;
  handles: Set<string>;
  replays: { tried: number; rejected: number };
  /** Sign-ins whose challenge and delivery went to different site instances. */
  crossInstance: number;
}

export async function runLoad(cluster: Cluster, options: LoadOptions): Promise<LoadResult> {
  const agents = new Map<number, Agent>();
  const agentFor = (port: number) => {
    let agent = agents.get(port);
    if (!agent) {
      agent = new Agent({ keepAlive: true, ca: cluster.pki.caPem, maxSockets: 64 });
      agents.set(port, agent);
    }
    return agent;
  };
  const send = (
    instance: Instance,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Answer> =>
    instance.track(
      () =>
        new Promise<Answer>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: instance.port,
              servername: instance.name,
              method,
              path,
              agent: agentFor(instance.port),
              headers: { host: instance.name, ...headers },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                const setCookie = res.headers['set-cookie'] ?? [];
                resolve({
                  status: res.statusCode ?? 0,
                  setCookies: setCookie,
                  location: res.headers.location,
                  text: Buffer.concat(chunks).toString('utf8'),
                });
              });
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end(body);
        }),
    );

  const result: LoadResult = {
    completed: 0,
    errors: [],
    latencies: [],
    durationMs: 0,
    nonces: new Set(),
    handles: new Set(),
    replays: { tried: 0, rejected: 0 },
    crossInstance: 0,
  };
  const replayEvery = options.replayEvery ?? 20;
  const events = [...(options.events ?? [])].sort((a, b) => a.after - b.after);
  const running: Promise<void>[] = [];
  // Gates: sign-in `before` and later start only when their event's action is done.
  const gates = events.map((e) => {
    let open = () => {};
    const done = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { event: e, before: e.before ?? Number.POSITIVE_INFINITY, done, open };
  });
  const fail = (what: string, a?: Answer) =>
    new Error(`${what}${a ? `: ${a.status} ${a.text.slice(0, 160)}` : ''}`);

  // A browser signs in at the provider once, as the user does in the provider's page.
  const providerSignIn = async (email: string): Promise<Jar> => {
    const jar = new Jar();
    const provider = cluster.pick('provider');
    const page = await send(provider, 'GET', '/signin', { accept: 'text/html' });
    jar.keep(page.setCookies);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.text)?.[1];
    if (!csrf) throw fail('provider sign-in page', page);
    const form = new URLSearchParams({ csrf_token: csrf, email, password: cluster.password });
    const done = await send(
      cluster.pick('provider'),
      'POST',
      '/signin',
      {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: jar.header(),
        origin: 'https://mail.test',
        'sec-fetch-site': 'same-origin',
      },
      form.toString(),
    );
    jar.keep(done.setCookies);
    if (done.status !== 303) throw fail('provider sign-in', done);
    return jar;
  };

  const signInOnce = async (n: number, email: string, provider: Jar, site: Jar) => {
    const started = performance.now();
    const first = cluster.pick('site');
    const challenge = await send(first, 'GET', '/bsso?bsso=challenge&domain=mail.test', {
      cookie: site.header(),
      accept: '*/*',
      'sec-fetch-site': 'same-origin',
    });
    site.keep(challenge.setCookies);
    if (challenge.status !== 200) throw fail('challenge', challenge);
    const { nonce, handle } = JSON.parse(challenge.text) as { nonce: string; handle?: string };
    const asked = await send(
      cluster.pick('provider'),
      'POST',
      '/bsso/assertion',
      {
        'content-type': 'application/json',
        origin: EXTENSION_ORIGIN,
        cookie: provider.header(),
      },
      JSON.stringify({ email, audience: SITE_ENDPOINT, nonce, ...(handle ? { handle } : {}) }),
    );
    if (asked.status !== 200) throw fail('assertion request', asked);
    const { assertion } = JSON.parse(asked.text) as { assertion: string };
    const second = cluster.pick('site', first);
    const form = new URLSearchParams({ assertion, return_to: '/members' }).toString();
    const delivered = await send(
      second,
      'POST',
      '/bsso',
      {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
        cookie: site.header(),
        origin: SITE_ORIGIN,
        'sec-fetch-site': 'same-origin',
      },
      form,
    );
    const session = delivered.setCookies.find((c) => c.startsWith('__Host-bsso_session='));
    if (delivered.status !== 303 || !session) throw fail('delivery', delivered);
    site.keep(delivered.setCookies);
    result.latencies.push(performance.now() - started);
    if (result.nonces.has(nonce)) throw new Error(`nonce accepted twice: ${nonce}`);
    result.nonces.add(nonce);
    if (handle) result.handles.add(handle);
    if (second !== first) result.crossInstance++;

    // The session made by one instance is known to every other.
    const members = await send(cluster.pick('site', second), 'GET', '/members', {
      cookie: site.header(),
      accept: 'text/html',
    });
    if (members.status !== 200 || !members.text.includes(email)) throw fail('members', members);

    if (n % replayEvery === 0) {
      result.replays.tried++;
      const replay = await send(
        cluster.pick('site', second),
        'POST',
        '/bsso',
        {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          cookie: site.header(),
        },
        form,
      );
      const error = (JSON.parse(replay.text || '{}') as { error?: string }).error;
      const sessionSet = replay.setCookies.some((c) => c.startsWith('__Host-bsso_session='));
      if (replay.status === 400 && error === 'invalid_nonce' && !sessionSet) {
        result.replays.rejected++;
      } else {
        throw fail('replayed assertion was not rejected', replay);
      }
    }
  };

  const start = performance.now();
  const deadline = start + (options.maxDurationMs ?? Number.POSITIVE_INFINITY);
  let started = 0;
  const finished = () => {
    result.completed++;
    while (events[0] && result.completed >= events[0].after) {
      const event = events.shift();
      if (event) {
        const gate = gates.find((g) => g.event === event);
        running.push(
          event
            .action()
            .catch((err: unknown) => {
              result.errors.push(`event: ${err instanceof Error ? err.message : String(err)}`);
            })
            .finally(() => gate?.open()),
        );
      }
    }
  };

  const browser = async (b: number) => {
    const email = cluster.accounts[b % cluster.accounts.length] as string;
    const provider = await providerSignIn(email);
    const site = new Jar();
    while (started < options.signIns && performance.now() < deadline) {
      const n = ++started;
      for (const g of gates) if (n >= g.before) await g.done;
      try {
        await signInOnce(n, email, provider, site);
        finished();
      } catch (err) {
        result.errors.push(`sign-in ${n}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  const browsers = await Promise.allSettled(
    Array.from({ length: options.concurrency }, (_, b) => browser(b)),
  );
  for (const b of browsers) {
    if (b.status === 'rejected') result.errors.push(`browser: ${String(b.reason)}`);
  }
  await Promise.all(running);
  result.durationMs = performance.now() - start;
  for (const agent of agents.values()) agent.destroy();
  return result;
}

/** p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summary(result: LoadResult): string {
  const rate = result.completed / (result.durationMs / 1000);
  const ms = (p: number) => percentile(result.latencies, p).toFixed(1);
  return [
    `sign-ins: ${result.completed} in ${(result.durationMs / 1000).toFixed(1)} s (${rate.toFixed(1)}/s)`,
    `latency ms: p50 ${ms(50)}  p95 ${ms(95)}  p99 ${ms(99)}  max ${ms(100)}`,
    `errors: ${result.errors.length}${result.errors.length ? ` (first: ${result.errors[0]})` : ''}`,
    `distinct nonces accepted: ${result.nonces.size}; association handles seen: ${result.handles.size}`,
    `cross-instance deliveries: ${result.crossInstance}; replays rejected: ${result.replays.rejected}/${result.replays.tried}`,
  ].join('\n');
}
