// A new Express site built from scratch with the README's lines, nothing else.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { bsso, requireSignIn } from '../src/index.ts';
import { ALICE, Browser, ENDPOINT, startFixture } from './helpers/fixture.ts';

test('the README integration signs a user in', async () => {
  const fx = await startFixture(); // the stand-in provider
  const signedIn: string[] = [];

  // --- the README's five lines ---
  const app = express();
  app.use(
    bsso({
      endpoint: 'https://site.test/bsso',
      outbound: { network: fx.network }, // the test network; not in the README
      onSignIn: (email) => {
        signedIn.push(email);
      },
    }),
  );
  app.get('/', (req, res) => {
    res.send(
      `<link rel="bsso_end_point" href="https://site.test/bsso"><button id="bsso_sign_in_button" type="button">Sign in</button> ${req.bsso.email ?? ''}`,
    );
  });
  app.get('/members', requireSignIn(), (req, res) => {
    res.send(`Hello ${req.bsso.email}`);
  });
  // --- end ---

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = new Browser(url);
    const c = await browser.challenge();
    assert.ok(c.handle);
    const a = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: c.nonce,
      handle: c.handle,
      now: Date.now(), // this site runs on the real clock
    });
    const d = await browser.deliver({ assertion: a, return_to: '/members' });
    assert.equal(d.status, 303);
    assert.deepEqual(signedIn, [ALICE]);
    const members = await fetch(`${url}/members`, { headers: { cookie: browser.cookieHeader() } });
    assert.equal(await members.text(), `Hello ${ALICE}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fx.close();
  }
});
