// Graceful shutdown of a running provider (main.ts, on SIGTERM): stop accepting, let the
// requests in flight finish, cut what is left after `timeoutMs`, then close the back-end
// and the stores: the issued-assertion log's batch is written first (storage/batched-log.ts),
// so nothing issued is missing from it; SQLite checkpoints its WAL on close; the PostgreSQL
// pool and Redis client end.
import type { Server } from 'node:http';
import type { Provider } from './index.ts';
import type { Logger } from './log.ts';

export async function shutDownGracefully(
  server: Server,
  provider: Pick<Provider, 'drain' | 'close'>,
  timeoutMs: number,
  logger: Logger,
  signal: string,
): Promise<void> {
  // /readyz answers 503 from now on and every answer closes its connection.
  provider.drain();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Logged once the listening socket is closed: from here on new connections are refused.
  logger.info('stopping', { signal, timeout_ms: timeoutMs });
  // Keep-alive connections with no request in flight have nothing to finish.
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn('shutdown_timeout', { timeout_ms: timeoutMs });
    server.closeAllConnections();
  }, timeoutMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
  await provider.close();
}
