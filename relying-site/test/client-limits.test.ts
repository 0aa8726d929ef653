// The site's per-client limit counts clients as the provider does (protocol-spec.md#provider-processing,
// Client address; threat 50): an IPv6 client by its /64, an IPv4-mapped address as IPv4.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMemoryRequestRateLimiter } from '../src/index.ts';
import { type Fixture, startFixture } from './helpers/fixture.ts';

describe('per-client limit keys', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture({ rateLimiter: createMemoryRequestRateLimiter({ max: 1 }) }, (app) =>
      app.set('trust proxy', true),
    );
  });
  after(() => fx.close());

  // Without bsso=challenge the request is counted, then refused as invalid_request (400).
  const ask = async (address: string): Promise<number> =>
    (await fetch(`${fx.siteUrl}/bsso`, { headers: { 'x-forwarded-for': address } })).status;

  it('an attacker changing IPv6 addresses inside its /64 stays one client', async () => {
    assert.equal(await ask('2001:db8:1:2::1'), 400);
    assert.equal(await ask('2001:db8:1:2:ffff:ffff:ffff:ffff'), 429);
    assert.equal(await ask('2001:db8:1:3::1'), 400);
  });

  it('an IPv4-mapped address counts as its IPv4 address', async () => {
    assert.equal(await ask('198.51.100.7'), 400);
    assert.equal(await ask('::ffff:198.51.100.7'), 429);
    assert.equal(await ask('198.51.100.8'), 400);
  });
});
