// The issued-assertion log off the request path: record() puts the entry in an in-memory
// batch and returns; the batch is written with one recordMany() (one transaction) when it
// holds `maxRows` entries or `intervalMs` after its first entry (the timer is unref'd, it
// never keeps the process alive). Reads and removals flush first, so what users see is
// unchanged. close() flushes what is left (graceful shutdown, src/shutdown.ts), so SIGTERM
// loses nothing; a crash loses at most the batch not yet written (README, Operations).
// A failed write is logged and its rows go back in front of the next batch; past
// `maxPending` rows held the oldest are dropped with an error log, so memory stays bounded.
import type { Logger } from '../log.ts';
import type { IssuedAssertionEntry, IssuedAssertionLog } from './types.ts';

export interface BatchedLogOptions {
  /** A batch of this many entries is written at once; default 100. */
  maxRows?: number;
  /** The longest an entry waits before its batch is written, ms; default 200. */
  intervalMs?: number;
  /** Entries held while writes fail, at most; older ones are dropped; default 10 000. */
  maxPending?: number;
  logger: Logger;
  /** Called on each failed write (the store error metric). */
  onError?: () => void;
}

export interface BatchedIssuedLog extends IssuedAssertionLog {
  /** Writes every entry recorded so far; never throws (a failure is logged, rows kept). */
  flush(): Promise<void>;
  /** Stops the timer and flushes; rows a last failed write could not store are logged. */
  close(): Promise<void>;
  /** Entries recorded and not yet written. */
  pending(): number;
}

export function createBatchedIssuedLog(
  inner: IssuedAssertionLog,
  options: BatchedLogOptions,
): BatchedIssuedLog {
  const maxRows = options.maxRows ?? 100;
  const intervalMs = options.intervalMs ?? 200;
  const maxPending = Math.max(options.maxPending ?? 10_000, maxRows);
  const { logger } = options;
  let batch: IssuedAssertionEntry[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  const bound = () => {
    const over = batch.length - maxPending;
    if (over <= 0) return;
    batch = batch.slice(over);
    logger.error('issued_log_dropped', { rows: over });
  };

  const schedule = () => {
    if (timer || batch.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, intervalMs);
    timer.unref?.();
  };

  const writeOnce = async (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    try {
      await inner.recordMany(rows);
    } catch (err) {
      batch = rows.concat(batch);
      options.onError?.();
      logger.error('issued_log_flush_failed', {
        rows: rows.length,
        message: err instanceof Error ? err.message : String(err),
      });
      bound();
      schedule();
    }
  };

  const start = (): Promise<void> => {
    const run = writeOnce().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };

  // One write at a time; a flush asked for during a write waits for it and writes the rest.
  function flush(): Promise<void> {
    if (queued) return queued;
    if (!running) return start();
    const next = running.then(() => {
      queued = undefined;
      return start();
    });
    queued = next;
    return next;
  }

  return {
    async record(entry) {
      batch.push(entry);
      bound();
      if (batch.length >= maxRows) void flush();
      else schedule();
    },
    async recordMany(entries) {
      batch.push(...entries);
      bound();
      if (batch.length >= maxRows) void flush();
      else schedule();
    },
    async recentSites(email, since, limit) {
      await flush();
      return inner.recentSites(email, since, limit);
    },
    async removeForAccount(email) {
      await flush();
      // Rows a failed write kept go with the account too.
      const before = batch.length;
      batch = batch.filter((e) => e.email !== email);
      return before - batch.length + (await inner.removeForAccount(email));
    },
    async removeOlderThan(cutoff) {
      await flush();
      return inner.removeOlderThan(cutoff);
    },
    flush,
    async close() {
      await flush();
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (batch.length > 0) logger.error('issued_log_lost', { rows: batch.length });
      batch = [];
    },
    pending: () => batch.length,
  };
}
