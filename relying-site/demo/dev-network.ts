// Development and test networking for the Node side: make names such as `mail.test` reach
// servers on loopback ports and trust a throwaway test CA, for every `fetch` in the process
// (webfinger.js included). Browsers get the same mapping with --host-resolver-rules.
//
//   installDevNetwork({ ca: caPem, hosts: { 'mail.test': 41002 } });
//   // fetch('https://mail.test/...') now connects to 127.0.0.1:41002, checks the
//   // certificate for mail.test against caPem (and the public roots).
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, setGlobalDispatcher } from 'undici';

export interface DevNetworkOptions {
  /** Extra trusted CA certificates (PEM), added to the public roots. */
  ca?: string | string[];
  /** Host name -> loopback port (or 'host:port'). Other names resolve normally. */
  hosts: Record<string, number | string>;
}

export function createDevAgent(options: DevNetworkOptions): Agent {
  const extra = options.ca === undefined ? [] : [options.ca].flat();
  const base = buildConnector({ ca: [...rootCertificates, ...extra] });
  return new Agent({
    connect: (opts, callback) => {
      const target = options.hosts[opts.hostname];
      if (target === undefined) {
        base(opts, callback);
        return;
      }
      const [host, port] =
        typeof target === 'number' ? ['127.0.0.1', String(target)] : splitHostPort(target);
      // Connect to loopback but keep SNI and certificate checks on the real name.
      base({ ...opts, hostname: host, port, servername: opts.hostname }, callback);
    },
  });
}

/** Installs the mapping for every fetch of this process (setGlobalDispatcher). */
export function installDevNetwork(options: DevNetworkOptions): Agent {
  const agent = createDevAgent(options);
  setGlobalDispatcher(agent);
  return agent;
}

function splitHostPort(value: string): [string, string] {
  const colon = value.lastIndexOf(':');
  return colon < 0 ? [value, '443'] : [value.slice(0, colon), value.slice(colon + 1)];
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
