#!/usr/bin/env node
// The `bsso-provider` program: starts the provider as an https server from environment
// settings (env.ts). Signals: SIGTERM or SIGINT shut it down gracefully (stop accepting,
// let requests in flight finish within BSSO_SHUTDOWN_TIMEOUT_MS, close the stores, exit 0);
// SIGHUP reloads the signing keys from the data directory (after the users CLI's
// rotate-keys; `systemctl reload`).
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readServerSettings } from './env.ts';
import { createProvider } from './index.ts';
import { createJsonLogger } from './log.ts';
import { shutDownGracefully } from './shutdown.ts';

async function main(): Promise<void> {
  const logger = createJsonLogger();
  const settings = readServerSettings(process.env);
  const provider = await createProvider({ ...settings.provider, logger });
  let server: Server;
  if (settings.tls) {
    const [cert, key] = await Promise.all([
      readFile(settings.tls.certFile),
      readFile(settings.tls.keyFile),
    ]);
    server = createHttpsServer({ cert, key }, provider.app);
  } else if (settings.behindTlsProxy) {
    logger.info('http_behind_tls_proxy', { host: settings.host });
    server = createHttpServer(provider.app);
  } else {
    logger.warn('development_http', { note: 'plain http: development only' });
    server = createHttpServer(provider.app);
  }
  server.listen(settings.port, settings.host, () => {
    const address = server.address();
    logger.info('listening', {
      issuer: settings.provider.issuer,
      port: typeof address === 'object' && address ? address.port : settings.port,
    });
  });
  process.on('SIGHUP', () => {
    provider.reloadKeys().catch((err: unknown) => {
      logger.error('keys_reload_failed', {
        message: err instanceof Error ? err.message : String(err),
      });
    });
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    shutDownGracefully(server, provider, settings.shutdownTimeoutMs, logger, signal).then(
      () => {
        logger.info('stopped', {});
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('stop_failed', { message: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`bsso provider: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
