#!/usr/bin/env node
// bsso-proxy: BSSO sign-in for a site in any language, as a sidecar (src/proxy/server.ts).
// The only place that reads the environment and the command line; see --help.
import { loadProxyConfig, ProxyConfigError, ProxyHelpRequested, USAGE } from '../proxy/config.ts';
import { startBssoProxy } from '../proxy/server.ts';

async function main(): Promise<number> {
  let config: ReturnType<typeof loadProxyConfig>;
  try {
    config = loadProxyConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ProxyHelpRequested) {
      console.log(USAGE);
      return 0;
    }
    if (err instanceof ProxyConfigError) {
      for (const problem of err.problems) console.error(`bsso-proxy: ${problem}`);
      return 2;
    }
    throw err;
  }
  const proxy = await startBssoProxy(config).catch((err: NodeJS.ErrnoException) => {
    console.error(
      `bsso-proxy: cannot listen on ${config.host}:${config.port} (${err.code ?? err.name}).`,
    );
    return undefined;
  });
  if (!proxy) return 1;
  const target = config.upstream ? `, passing requests on to ${config.upstream.origin}` : '';
  console.log(
    `bsso-proxy (${config.mode}) for ${config.endpoint} listening on ${proxy.url}${target}`,
  );
  if (!config.tls && config.trustProxy === 0) {
    console.log(
      'bsso-proxy: plain http: browsers keep its Secure cookies only behind a TLS-terminating proxy.',
    );
  }
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await proxy.close();
  return 0;
}

process.exitCode = await main();
