import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { type RedisClient, reconnectDelay, redisCall, reportOutages } from '../src/redis.ts';

describe('Redis helpers', () => {
  it('reconnect backoff doubles from 50 ms up to 2 s', () => {
    assert.deepEqual([0, 1, 2, 5, 6, 30].map(reconnectDelay), [50, 100, 200, 1600, 2000, 2000]);
  });

  it('a failed call names the store operation and keeps the cause', async () => {
    const cause = new Error('connection lost');
    await assert.rejects(
      redisCall('nonce consume', async () => {
        throw cause;
      }),
      (err: Error) =>
        err.message === 'Redis nonce consume failed: connection lost' && err.cause === cause,
    );
    assert.equal(await redisCall('get', async () => 7), 7);
  });

  it('reports an outage once, however many reconnect errors, and the recovery', () => {
    const client = new EventEmitter();
    const seen: string[] = [];
    reportOutages(client as unknown as RedisClient, {
      down: (err) => seen.push(`down ${err.message}`),
      up: () => seen.push('up'),
    });
    client.emit('ready');
    client.emit('error', new Error('a'));
    client.emit('error', new Error('b'));
    client.emit('ready');
    client.emit('error', new Error('c'));
    assert.deepEqual(seen, ['down a', 'up', 'down c']);
  });
});
