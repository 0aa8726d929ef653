// The core's contract for a new adapter: a request as plain data in, what to send out (the
// shared adapter suite runs the flow itself through every adapter).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '@bsso/protocol';
import { createBssoEndpoint, type SiteRequest } from '../src/core/index.ts';
import { ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';

describe('createBssoEndpoint: plain data in, plain data out', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(() => fx.close());

  const request = (method: string, url: string, headers: Record<string, string> = {}) =>
    ({
      method,
      url,
      header: (name: string) => headers[name],
      clientAddress: '192.0.2.1',
      body: async function* () {},
      raw: null,
    }) satisfies SiteRequest<null>;

  test('answers only its own paths', async () => {
    const endpoint = createBssoEndpoint<null>({
      endpoint: ENDPOINT,
      now: () => fx.clock.now,
      outbound: { network: fx.network },
    });
    assert.deepEqual(endpoint.paths, { endpoint: '/bsso', signOut: '/bsso/signout' });
    assert.equal(await endpoint.handle(request('GET', '/members')), null);
    assert.equal(await endpoint.handle(request('POST', '/bsso/other')), null);

    const challenge = await endpoint.handle(
      request('GET', '/bsso?bsso=challenge&domain=mail.test'),
    );
    assert.equal(challenge?.status, 200);
    assert.equal(challenge?.headers['cache-control'], 'no-store');
    assert.equal(challenge?.setCookies.length, 1);
    assert.ok(JSON.parse(challenge?.body ?? '').nonce);

    const put = await endpoint.handle(request('PUT', '/bsso'));
    assert.equal(put?.status, 405);
    assert.equal(JSON.parse(put?.body ?? '').error, 'method_not_allowed');

    // A browser gets the generic page, an API caller the error object; neither names more
    // than the code's fixed text.
    const page = await endpoint.handle(
      request('POST', '/bsso', { 'content-type': 'text/plain', accept: 'text/html' }),
    );
    assert.equal(page?.status, 415);
    assert.match(page?.headers['content-type'] ?? '', /^text\/html/);
    assert.match(page?.body ?? '', /<code>unsupported_media_type<\/code>/);
    const json = await endpoint.handle(
      request('POST', '/bsso', { 'content-type': 'text/plain', accept: 'application/json' }),
    );
    assert.deepEqual(JSON.parse(json?.body ?? ''), {
      error: 'unsupported_media_type',
      error_description: errorCodes.unsupported_media_type.description,
    });
    assert.equal(await endpoint.email(undefined), null);
  });
});
