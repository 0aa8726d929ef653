// The batching writer in front of the issued-assertion log (src/storage/batched-log.ts):
// written by size or after the interval, one write at a time, reads see every row recorded,
// failed writes retried and bounded, close() writes the rest. Timers are node:test's mock.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { LogFields, Logger } from '../src/log.ts';
import { createBatchedIssuedLog } from '../src/storage/batched-log.ts';
import type { IssuedAssertionEntry, IssuedAssertionLog } from '../src/storage/types.ts';

interface FakeLog extends IssuedAssertionLog {
  rows: IssuedAssertionEntry[];
  writes: number[];
  failNext: number;
}

function fakeLog(): FakeLog {
  const log: FakeLog = {
    rows: [],
    writes: [],
    failNext: 0,
    async record(e) {
      log.rows.push(e);
    },
    async recordMany(entries) {
      await Promise.resolve();
      if (log.failNext > 0) {
        log.failNext--;
        throw new Error('database is locked');
      }
      log.writes.push(entries.length);
      log.rows.push(...entries);
    },
    async recentSites(email) {
      const mine = log.rows.filter((r) => r.email === email);
      return mine.length === 0
        ? []
        : [{ siteOrigin: 'https://a.test', lastIssuedAt: 0, count: mine.length }];
    },
    async removeForAccount(email) {
      const before = log.rows.length;
      log.rows = log.rows.filter((r) => r.email !== email);
      return before - log.rows.length;
    },
    async removeOlderThan(cutoff) {
      const before = log.rows.length;
      log.rows = log.rows.filter((r) => r.issuedAt >= cutoff);
      return before - log.rows.length;
    },
  };
  return log;
}

function recordingLogger(): Logger & { events: [string, LogFields | undefined][] } {
  const events: [string, LogFields | undefined][] = [];
  const push = (event: string, fields?: LogFields) => {
    events.push([event, fields]);
  };
  return { events, info: push, warn: push, error: push };
}

const entry = (i: number, email = 'a@x.test'): IssuedAssertionEntry => ({
  email,
  siteOrigin: 'https://a.test',
  issuedAt: i,
});

/** Lets the promise jobs queued so far run (the fake store answers in a microtask). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('batched issued-assertion log', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('writes nothing on record; one write after the interval', async () => {
    const inner = fakeLog();
    const log = createBatchedIssuedLog(inner, { logger: recordingLogger(), intervalMs: 200 });
    for (let i = 0; i < 5; i++) await log.record(entry(i));
    assert.equal(inner.rows.length, 0);
    mock.timers.tick(199);
    await settle();
    assert.equal(inner.rows.length, 0);
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(inner.writes, [5]);
    assert.equal(log.pending(), 0);
  });

  it('writes a full batch at once, without waiting for the timer', async () => {
    const inner = fakeLog();
    const log = createBatchedIssuedLog(inner, { logger: recordingLogger(), maxRows: 3 });
    for (let i = 0; i < 7; i++) await log.record(entry(i));
    await settle();
    assert.deepEqual(inner.writes, [3, 3]);
    assert.equal(log.pending(), 1);
    mock.timers.tick(200);
    await settle();
    assert.deepEqual(inner.writes, [3, 3, 1]);
  });

  it('reads and removals see every row recorded before them', async () => {
    const inner = fakeLog();
    const log = createBatchedIssuedLog(inner, { logger: recordingLogger() });
    await log.record(entry(1));
    await log.record(entry(2, 'b@x.test'));
    assert.deepEqual(await log.recentSites('a@x.test', 0, 10), [
      { siteOrigin: 'https://a.test', lastIssuedAt: 0, count: 1 },
    ]);
    await log.record(entry(3, 'b@x.test'));
    assert.equal(await log.removeForAccount('b@x.test'), 2);
    await log.record(entry(0));
    assert.equal(await log.removeOlderThan(2), 2);
    assert.equal(inner.rows.length, 0);
  });

  it('one write at a time; a flush asked for during a write writes the rest after it', async () => {
    const inner = fakeLog();
    let active = 0;
    let most = 0;
    const write = inner.recordMany;
    inner.recordMany = async (entries) => {
      active++;
      most = Math.max(most, active);
      try {
        await write(entries);
      } finally {
        active--;
      }
    };
    const log = createBatchedIssuedLog(inner, { logger: recordingLogger() });
    await log.record(entry(1));
    const first = log.flush();
    await log.record(entry(2));
    const second = log.flush();
    const third = log.flush();
    await Promise.all([first, second, third]);
    assert.equal(most, 1);
    assert.deepEqual(inner.writes, [1, 1]);
  });

  it('a failed write is logged and retried with the next batch', async () => {
    const inner = fakeLog();
    const logger = recordingLogger();
    const failures: number[] = [];
    const log = createBatchedIssuedLog(inner, {
      logger,
      onError: () => failures.push(1),
    });
    inner.failNext = 1;
    await log.record(entry(1));
    await log.flush();
    assert.equal(inner.rows.length, 0);
    assert.equal(log.pending(), 1);
    assert.deepEqual(logger.events[0], [
      'issued_log_flush_failed',
      { rows: 1, message: 'database is locked' },
    ]);
    assert.equal(failures.length, 1);
    await log.record(entry(2));
    // The retry is scheduled by the timer too.
    mock.timers.tick(200);
    await settle();
    assert.deepEqual(inner.writes, [2]);
    assert.deepEqual(
      inner.rows.map((r) => r.issuedAt),
      [1, 2],
    );
  });

  it('holds at most maxPending rows while writes fail: the oldest are dropped, logged', async () => {
    const inner = fakeLog();
    const logger = recordingLogger();
    const log = createBatchedIssuedLog(inner, { logger, maxRows: 10, maxPending: 25 });
    inner.failNext = 1_000;
    for (let i = 0; i < 40; i++) await log.record(entry(i));
    await log.flush();
    assert.equal(log.pending(), 25);
    const dropped = logger.events
      .filter(([event]) => event === 'issued_log_dropped')
      .reduce((n, [, fields]) => n + Number(fields?.rows), 0);
    assert.equal(dropped, 15);
    inner.failNext = 0;
    await log.flush();
    assert.deepEqual(
      inner.rows.map((r) => r.issuedAt),
      Array.from({ length: 25 }, (_, i) => 15 + i),
    );
  });

  it('close() writes what is left and stops the timer; rows it cannot write are logged', async () => {
    const inner = fakeLog();
    const logger = recordingLogger();
    const log = createBatchedIssuedLog(inner, { logger });
    for (let i = 0; i < 3; i++) await log.record(entry(i));
    await log.close();
    assert.equal(inner.rows.length, 3);

    const failing = fakeLog();
    failing.failNext = 1;
    const other = createBatchedIssuedLog(failing, { logger });
    await other.record(entry(9));
    await other.close();
    assert.deepEqual(logger.events.at(-1), ['issued_log_lost', { rows: 1 }]);
    mock.timers.tick(1_000);
    await settle();
    assert.equal(failing.rows.length, 0);
  });
});
