// An Express app that parses forms before the BSSO router (express.urlencoded() first): the
// router reads the parsed fields, and the request-shape checks still hold.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { bsso } from '../src/index.ts';
import { ALICE, Browser, ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';

describe('Express: a body parser before the router', () => {
  let fx: Fixture;
  let server: Server;
  let browser: Browser;
  before(async () => {
    fx = await startFixture();
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(
      bsso({ endpoint: ENDPOINT, now: () => fx.clock.now, outbound: { network: fx.network } }),
    );
    app.get('/me', (req, res) => {
      res.json({ email: req.bsso.email });
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    browser = new Browser(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fx.close();
  });

  test('signs in from the parsed form', async () => {
    const { nonce, handle } = await browser.challenge();
    const assertion = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce,
      ...(handle ? { handle } : {}),
    });
    const d = await browser.deliver({ assertion, return_to: '/me', email: 'mallory@mail.test' });
    assert.equal(d.status, 303);
    assert.equal(d.location, '/me');
    assert.equal(await browser.me(), ALICE);
  });

  test('the checks still hold: two assertions, a body over 16 KiB', async () => {
    const calls = fx.standIn.requests.length;
    const two = await browser.deliver('assertion=a&assertion=b');
    assert.equal(two.body.error, 'invalid_request');
    const big = await browser.deliver(`assertion=${'a'.repeat(20_000)}`);
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'payload_too_large');
    for (const d of [two, big]) {
      assert.equal(
        d.setCookies.some((c) => c.startsWith('__Host-bsso_session=')),
        false,
      );
    }
    assert.equal(fx.standIn.requests.length, calls);
  });
});
