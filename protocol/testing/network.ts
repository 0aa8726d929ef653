// Test and development networking for Node: names such as `mail.test` reach servers on
// loopback ports for every `fetch` in the process (webfinger.js and S2S calls included),
// with SNI and certificate checks kept on the real name against a throwaway CA. Browsers
// get the same mapping with --host-resolver-rules.
//
//   const restore = routeFetch({ hosts: { 'mail.test': 41002 }, ca: pki.caPem });
//   // fetch('https://mail.test/...') now connects to 127.0.0.1:41002.
import { rootCertificates } from 'node:tls';
import {
  Agent,
  buildConnector,
  type Dispatcher,
  getGlobalDispatcher,
  setGlobalDispatcher,
} from 'undici';
import type { PublicNetworkOptions } from '../src/public-network.ts';

export interface RouteFetchOptions {
  /** Host name -> loopback port (or 'host:port'). */
  hosts: Record<string, number | string>;
  /** Extra trusted CA certificates (PEM). */
  ca?: string | string[];
  /** Trust the public roots too; default true. False: only `ca` is trusted. */
  publicRoots?: boolean;
  /** A name not in `hosts`: 'direct' connects as usual (default), 'refuse' fails. */
  otherHosts?: 'direct' | 'refuse';
}

/** An undici Agent connecting each mapped name to its loopback target. */
export function createRoutingAgent(options: RouteFetchOptions): Agent {
  const extra = options.ca === undefined ? [] : [options.ca].flat();
  const ca = options.publicRoots === false ? extra : [...rootCertificates, ...extra];
  const connect = buildConnector({ ca });
  return new Agent({
    connect: (opts, callback) => {
      const target = Object.hasOwn(options.hosts, opts.hostname)
        ? options.hosts[opts.hostname]
        : undefined;
      if (target === undefined) {
        if (options.otherHosts === 'refuse') {
          callback(new Error(`test network: no route to ${opts.hostname}`), null);
        } else {
          connect(opts, callback);
        }
        return;
      }
      const [host, port] =
        typeof target === 'number' ? ['127.0.0.1', String(target)] : splitHostPort(target);
      // Connect to loopback but keep SNI and certificate checks on the real name.
      connect({ ...opts, hostname: host, port, servername: opts.hostname }, callback);
    },
  });
}

/**
 * Installs the routing for every fetch of this process (setGlobalDispatcher). Returns a
 * function restoring the previous dispatcher.
 */
export function routeFetch(options: RouteFetchOptions): () => void {
  const agent = createRoutingAgent(options);
  const previous: Dispatcher = getGlobalDispatcher();
  setGlobalDispatcher(agent);
  return () => {
    setGlobalDispatcher(previous);
    void agent.close();
  };
}

/** `[{ name, port }]` as a `hosts` map. */
export function hostsOf(sites: readonly { name: string; port: number }[]): Record<string, number> {
  return Object.fromEntries(sites.map((s) => [s.name, s.port]));
}

/** Parses 'mail.test=41002,other.test=127.0.0.1:41003' (the BSSO_DEV_HOSTS format). */
export function parseHostMap(value: string): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const entry of value.split(',')) {
    const [name, target] = entry.split('=').map((s) => s.trim());
    if (!name || !target) throw new TypeError(`Bad host mapping: ${entry}`);
    hosts[name] = target.includes(':') ? target : `127.0.0.1:${target}`;
  }
  return hosts;
}

function splitHostPort(value: string): [string, string] {
  const colon = value.lastIndexOf(':');
  return colon < 0 ? [value, '443'] : [value.slice(0, colon), value.slice(colon + 1)];
}

/**
 * The public-network guard's options for a site under test: the mapped names resolve to their
 * targets on 127.0.0.1, the one address on the explicit allow-list; `unlisted` names resolve
 * to other addresses (e.g. 127.0.0.2: a hostile domain's DNS); any other name does not
 * resolve, so nothing leaves the machine. The test CA is trusted and the connection goes to
 * the mapped port. Both maps are read at each connection, so names may be added after the
 * site is made. The guard itself runs unchanged.
 */
export function testNetwork(options: {
  hosts: Record<string, number | string>;
  unlisted?: Record<string, string>;
  ca?: string | string[];
}): PublicNetworkOptions {
  const targetOf = (name: string): [string, string] | undefined => {
    const target = Object.hasOwn(options.hosts, name) ? options.hosts[name] : undefined;
    if (target === undefined) return undefined;
    return typeof target === 'number' ? ['127.0.0.1', String(target)] : splitHostPort(target);
  };
  const addressOf = (name: string): string | undefined =>
    targetOf(name)?.[0] ??
    (options.unlisted && Object.hasOwn(options.unlisted, name)
      ? options.unlisted[name]
      : undefined);
  return {
    resolve: async (hostname) => {
      const address = addressOf(hostname);
      if (address === undefined) throw new Error(`test network: ${hostname} does not resolve`);
      return [{ address, family: address.includes(':') ? 6 : 4 }];
    },
    allowAddresses: ['127.0.0.1/32'],
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    connector: (ca) => {
      const connect = buildConnector({ ca: [...ca] });
      return (opts, callback) => {
        const name = new URL(`https://${opts.host}`).hostname;
        const port = targetOf(name)?.[1] ?? opts.port;
        connect({ ...opts, port }, callback);
      };
    },
  };
}
