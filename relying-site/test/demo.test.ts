// The demo site: markup the extension looks for, account state, guard, sign-out, headers.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createDemoSite } from '../demo/app.ts';
import { ALICE, Browser, ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';

let fx: Fixture;
let server: Server;
let url: string;

before(async () => {
  fx = await startFixture();
  const app = createDemoSite({
    endpoint: ENDPOINT,
    siteName: 'Demo',
    deliveryAnswer: 'page',
    now: () => fx.clock.now,
    outbound: { network: fx.network },
  });
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await fx.close();
});

test('home page: BSSO markup, strict CSP, signed out', async () => {
  const res = await fetch(`${url}/`);
  const html = await res.text();
  // Signed out: the link carries a page challenge (protocol-spec.md#page-challenge).
  assert.match(
    html,
    new RegExp(
      `<link rel="bsso_end_point" href="${ENDPOINT}" data-bsso-nonce="[A-Za-z0-9_-]{50}" data-bsso-expires-in="3600" data-bsso-handle-set="[A-Za-z0-9_-]{22}">`,
    ),
  );
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(res.headers.getSetCookie().join('\n'), /__Host-bsso_browser=/);
  assert.ok(
    html.includes(
      '<a id="bsso_sign_in_button" class="button" href="/bsso?bsso=start">Sign in with your email</a>',
    ),
  );
  assert.ok(html.includes('id="signed-out"'));
  assert.equal(html.includes('<script'), false);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce && html.includes(`<style nonce="${nonce}">`));
});

test('members: redirect when signed out; sign in; account state; sign out', async () => {
  const browser = new Browser(url);
  const guarded = await fetch(`${url}/members`, { redirect: 'manual' });
  assert.equal(guarded.status, 303);
  assert.equal(guarded.headers.get('location'), '/?return_to=%2Fmembers');
  const api = await fetch(`${url}/members`, { headers: { accept: 'application/json' } });
  assert.equal(api.status, 401);
  assert.equal(((await api.json()) as { error: string }).error, 'login_required');

  const c = await browser.challenge();
  const a = await fx.standIn.assertionFor({
    email: ALICE,
    audience: ENDPOINT,
    nonce: c.nonce,
    ...(c.handle ? { handle: c.handle } : {}),
  });
  // With deliveryAnswer: 'page' the demo answers the delivery with the members page itself,
  // whose script makes /members its URL.
  const d = await browser.deliver({ assertion: a, return_to: '/members' }, { accept: 'text/html' });
  assert.equal(d.status, 200);
  assert.equal(d.location, null);
  assert.ok(d.text.includes(`Welcome, <strong>${ALICE}</strong>`));
  assert.match(
    d.text,
    /<script nonce="[^"]+">history\.replaceState\(null, '', "\/members"\);<\/script>/,
  );
  const cookie = { cookie: browser.cookieHeader() };
  const home = await (await fetch(`${url}/`, { headers: cookie })).text();
  assert.ok(home.includes(`<p id="signed-in-as">Signed in as <strong>${ALICE}</strong></p>`));
  const members = await (await fetch(`${url}/members`, { headers: cookie })).text();
  assert.ok(members.includes(ALICE));

  // Cross-site sign-out is refused; same-origin works.
  const cross = await fetch(`${url}/bsso/signout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...cookie, origin: 'https://evil.test', accept: 'application/json' },
  });
  assert.equal(cross.status, 403);
  const crossMeta = await fetch(`${url}/bsso/signout`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      ...cookie,
      origin: 'null',
      'sec-fetch-site': 'cross-site',
      accept: 'application/json',
    },
  });
  assert.equal(crossMeta.status, 403);
  assert.equal((await crossMeta.json()).error, 'origin_not_allowed');
  // The demo's own form under Referrer-Policy: no-referrer: Origin null, fetch metadata same-origin.
  const out = await fetch(`${url}/bsso/signout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...cookie, origin: 'null', 'sec-fetch-site': 'same-origin' },
  });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get('location'), '/');
  assert.match(out.headers.getSetCookie()[0] ?? '', /^__Host-bsso_session=; .*Max-Age=0/);
  // The old cookie no longer signs anyone in: the session is gone on the server.
  const later = await (await fetch(`${url}/`, { headers: cookie })).text();
  assert.ok(later.includes('id="signed-out"'));
});
