// BssoStrategy as a Passport user writes it, with a body parser for the whole app (as for
// passport-local): a verify callback mapping the address to a user of the app, req.user / req.isAuthenticated(), a refusal or a rejected assertion as a failure
// redirect, an error of the app's own as next(err). The common cases run in the shared
// adapter suite (adapters.test.ts).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { BssoStrategy, bssoRoutes } from '../src/passport/strategy.ts';
import { ALICE, Browser, ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';

interface User {
  id: number;
  email: string;
}

describe('Passport: BssoStrategy in an app', () => {
  let fx: Fixture;
  let server: Server;
  let url: string;
  const users = new Map<string, User>([[ALICE, { id: 7, email: ALICE }]]);
  const seen: string[] = [];

  before(async () => {
    fx = await startFixture();
    const passport = new Passport();
    passport.serializeUser((user, done) => done(null, (user as User).id));
    passport.deserializeUser((id: number, done) =>
      done(null, [...users.values()].find((u) => u.id === id) ?? false),
    );
    const strategy = new BssoStrategy(
      { endpoint: ENDPOINT, now: () => fx.clock.now, outbound: { network: fx.network } },
      (email, done) => {
        seen.push(email);
        if (email === 'broken@mail.test') return done(new Error('the user database is down'));
        const user = users.get(email);
        return user ? done(null, user) : done(null, false, { message: 'No account here.' });
      },
    );
    passport.use(strategy);
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
    app.use(passport.session());
    app.use(bssoRoutes(strategy));
    app.post(
      '/bsso',
      passport.authenticate('bsso', {
        failureRedirect: '/signin-failed',
        failureMessage: true,
        successReturnToOrRedirect: '/',
        keepSessionInfo: true,
      }),
    );
    app.get('/whoami', (req, res) => {
      res.json({ authenticated: req.isAuthenticated(), user: req.user ?? null });
    });
    app.get('/signin-failed', (req, res) => {
      res.json({ messages: (req.session as { messages?: string[] }).messages ?? [] });
    });
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ error: err.message });
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fx.close();
  });

  async function deliverAs(browser: Browser, email: string) {
    const { nonce, handle } = await browser.challenge();
    const assertion = await fx.standIn.assertionFor({
      email,
      audience: ENDPOINT,
      nonce,
      ...(handle ? { handle } : {}),
    });
    const calls = fx.standIn.requests.length;
    const d = await browser.deliver({ assertion, return_to: '/account' });
    return { ...d, calls: fx.standIn.requests.length - calls };
  }

  const whoami = async (browser: Browser) =>
    (await fetch(`${url}/whoami`, { headers: { cookie: browser.cookieHeader() } })).json();

  test('the verify callback maps the address to the app user; req.user is that user', async () => {
    const browser = new Browser(url);
    const d = await deliverAs(browser, ALICE);
    assert.equal(d.status, 302);
    assert.equal(d.location, '/account');
    assert.deepEqual(await whoami(browser), { authenticated: true, user: { id: 7, email: ALICE } });
    assert.equal(seen.at(-1), ALICE);
  });

  test('a refusal by the verify callback is a failure redirect with its message', async () => {
    const browser = new Browser(url);
    const d = await deliverAs(browser, 'nobody@mail.test');
    assert.equal(d.status, 302);
    assert.equal(d.location, '/signin-failed');
    assert.equal(d.calls, 0, 'no further outbound call');
    assert.deepEqual(await whoami(browser), { authenticated: false, user: null });
    const page = await fetch(`${url}/signin-failed`, {
      headers: { cookie: browser.cookieHeader() },
    });
    assert.deepEqual(((await page.json()) as { messages: string[] }).messages, [
      'No account here.',
    ]);
  });

  test("an error of the app's verify callback goes to next(err), no session", async () => {
    const browser = new Browser(url);
    const d = await deliverAs(browser, 'broken@mail.test');
    assert.equal(d.status, 500);
    assert.equal(d.body.error, 'the user database is down');
    assert.deepEqual(await whoami(browser), { authenticated: false, user: null });
  });

  test('a rejected assertion never reaches the verify callback', async () => {
    const browser = new Browser(url);
    await browser.challenge();
    const before = seen.length;
    const d = await browser.deliver({ assertion: 'e30.e30.!!' });
    assert.equal(d.status, 302);
    assert.equal(d.location, '/signin-failed');
    assert.equal(seen.length, before);
    assert.deepEqual(await whoami(browser), { authenticated: false, user: null });
  });
});
