// Starts the provider as an https server from environment settings (see env.ts).
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readServerSettings } from './env.ts';
import { createProvider } from './index.ts';
import { createJsonLogger } from './log.ts';

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
  const stop = (signal: string) => {
    logger.info('stopping', { signal });
    server.close(() => {
      provider.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bsso provider: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
