// The framework-free core behind a plain node:http server (examples/node-http.ts).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createNodeHttpSite } from '../examples/node-http.ts';
import { ALICE, Browser, ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';

let fx: Fixture;
let server: ReturnType<typeof createNodeHttpSite>;
let url: string;

before(async () => {
  fx = await startFixture(); // for the stand-in provider and the dev network
  server = createNodeHttpSite({
    endpoint: ENDPOINT,
    now: () => fx.clock.now,
    outbound: { network: fx.network },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await fx.close();
});

test('sign-in through a plain node:http server', async () => {
  const browser = new Browser(url);
  const c = await browser.challenge();
  assert.ok(c.handle);
  const a = await fx.standIn.assertionFor({
    email: ALICE,
    audience: ENDPOINT,
    nonce: c.nonce,
    handle: c.handle,
  });
  const d = await browser.deliver({ assertion: a, return_to: '/me' });
  assert.equal(d.status, 303);
  assert.equal(d.location, '/me');
  assert.equal(await browser.me(), ALICE);
});

test('errors are JSON with a code, and no session', async () => {
  const browser = new Browser(url);
  const d = await browser.deliver('assertion=x', { contentType: 'text/plain' });
  assert.equal(d.status, 415);
  assert.equal(d.body.error, 'unsupported_media_type');
  assert.equal(d.setCookies.length, 0);
});
