// The web flow at the site (protocol-spec.md#web-flow; threat 48): the start page's form, its
// POST (the address, discovery, a nonce bound to the browser, 303 to the provider's web
// endpoint), and the delivery that comes back as a cross-site POST, accepted by the same
// checks as the extension's: session, return path, one use per nonce, no login CSRF.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseWebSignInRequest, type WebSignInRequest } from '@bsso/protocol';
import { CookieJar } from '@bsso/protocol/testing';
import { ALICE, ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';

/** A browser at the site, sending only the cookies a request of the given kind carries. */
class SiteBrowser extends CookieJar {
  readonly siteUrl: string;
  constructor(siteUrl: string) {
    super({ dropEmpty: true });
    this.siteUrl = siteUrl;
  }

  /** Same-site requests carry every cookie; a cross-site POST only SameSite=None ones. */
  cookieFor(kind: 'same-origin' | 'cross-site'): string {
    return [...this.cookies]
      .filter(([name]) => kind === 'same-origin' || name === '__Host-bsso_web')
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  async get(path: string): Promise<Response> {
    const res = await fetch(this.siteUrl + path, {
      redirect: 'manual',
      headers: { cookie: this.cookieFor('same-origin'), 'sec-fetch-site': 'same-origin' },
    });
    this.keep(res);
    return res;
  }

  async post(
    path: string,
    fields: Record<string, string>,
    kind: 'same-origin' | 'cross-site' = 'same-origin',
  ): Promise<Response> {
    const res = await fetch(this.siteUrl + path, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: this.cookieFor(kind),
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': kind,
        accept: 'text/html',
      },
      body: new URLSearchParams(fields).toString(),
    });
    this.keep(res);
    return res;
  }

  /** Starts a web sign-in; returns the web request the site sent the browser to the provider with. */
  async start(email: string, extra: Record<string, string> = {}): Promise<WebSignInRequest> {
    const res = await this.post('/bsso?bsso=start', { email, ...extra });
    assert.equal(res.status, 303, await res.text());
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, 'https://mail.test/bsso/web');
    return parseWebSignInRequest(location.searchParams);
  }

  async me(): Promise<string | null> {
    const res = await this.get('/me');
    return ((await res.json()) as { email: string | null }).email;
  }
}

function codeOf(page: string): string {
  return /Error code: <code>([a-z_]+)<\/code>/.exec(page)?.[1] ?? '';
}

function sessionSet(res: Response): boolean {
  return res.headers
    .getSetCookie()
    .some((c) => c.startsWith('__Host-bsso_session=') && !c.includes('Max-Age=0'));
}

describe('start page and web-flow delivery', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f.close();
  });

  /** The assertion the provider's page would POST for a web request. */
  async function assertionFor(request: WebSignInRequest, email = ALICE): Promise<string> {
    return f.standIn.assertionFor({
      email,
      audience: request.audience,
      nonce: request.nonce,
      ...(request.handle === undefined ? {} : { handle: request.handle }),
    });
  }

  it('shows an address form that cannot be framed or cached', async () => {
    const b = new SiteBrowser(f.siteUrl);
    const res = await b.get('/bsso?bsso=start&return_to=%2Fmembers');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const page = await res.text();
    assert.match(page, /<form method="post" action="\/bsso\?bsso=start">/);
    assert.match(page, /<label for="bsso-email">Email address<\/label>/);
    assert.match(page, /name="return_to" value="\/members"/);
  });

  it('sends the browser to the provider web endpoint with a nonce bound to it, then signs in on the cross-site delivery', async () => {
    const b = new SiteBrowser(f.siteUrl);
    const request = await b.start('Alice@Mail.Test', { return_to: '/members' });
    assert.equal(request.audience, ENDPOINT);
    assert.equal(request.login_hint, ALICE);
    assert.equal(request.return_to, '/members');
    assert.ok(request.handle, 'the site offers its association handle');
    assert.ok(b.cookies.has('__Host-bsso_browser'));
    assert.ok(b.cookies.has('__Host-bsso_web'));
    const assertion = await assertionFor(request);
    const res = await b.post('/bsso', { assertion, return_to: '/members' }, 'cross-site');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/members');
    assert.ok(sessionSet(res));
    assert.ok(res.headers.getSetCookie().some((c) => /^__Host-bsso_web=; .*Max-Age=0/.test(c)));
    assert.equal(await b.me(), ALICE);
  });

  it('sets the browser cookies with the right attributes', async () => {
    const b = new SiteBrowser(f.siteUrl);
    const res = await b.post('/bsso?bsso=start', { email: ALICE });
    const cookies = res.headers.getSetCookie();
    const web = cookies.find((c) => c.startsWith('__Host-bsso_web=')) ?? '';
    assert.match(web, /; Path=\/; Max-Age=300; Secure; HttpOnly; SameSite=None$/);
    const strict = cookies.find((c) => c.startsWith('__Host-bsso_browser=')) ?? '';
    assert.match(strict, /SameSite=Strict/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  });

  it('accepts each nonce once (replay): the second delivery makes no session', async () => {
    const b = new SiteBrowser(f.siteUrl);
    const request = await b.start(ALICE);
    const assertion = await assertionFor(request);
    assert.equal((await b.post('/bsso', { assertion }, 'cross-site')).status, 303);
    const again = await b.post('/bsso', { assertion }, 'cross-site');
    assert.equal(again.status, 400);
    assert.equal(codeOf(await again.text()), 'invalid_nonce');
    assert.ok(!sessionSet(again));
  });

  it('refuses an assertion for a nonce bound to another browser (login CSRF): no session', async () => {
    const attacker = new SiteBrowser(f.siteUrl);
    const victim = new SiteBrowser(f.siteUrl);
    const attackerRequest = await attacker.start('mallory@mail.test');
    await victim.start(ALICE);
    const verified = f.standIn.count('/bsso/verify');
    const assertion = await assertionFor(attackerRequest, 'mallory@mail.test');
    const res = await victim.post('/bsso', { assertion }, 'cross-site');
    assert.equal(res.status, 400);
    assert.equal(codeOf(await res.text()), 'invalid_nonce');
    assert.ok(!sessionSet(res));
    assert.equal(f.standIn.count('/bsso/verify'), verified, 'no provider call');
    assert.equal(await victim.me(), null);
  });

  it('refuses an assertion for another audience (audience swapping): no session', async () => {
    const b = new SiteBrowser(f.siteUrl);
    const request = await b.start(ALICE);
    const assertion = await assertionFor({ ...request, audience: 'https://other.test/bsso' });
    const res = await b.post('/bsso', { assertion }, 'cross-site');
    assert.equal(res.status, 400);
    assert.equal(codeOf(await res.text()), 'invalid_audience');
    assert.ok(!sessionSet(res));
  });

  it('refuses a start POST from another site, with no redirect', async () => {
    const b = new SiteBrowser(f.siteUrl);
    const res = await b.post('/bsso?bsso=start', { email: ALICE }, 'cross-site');
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('location'), null);
    assert.equal(codeOf(await res.text()), 'origin_not_allowed');
  });

  it('asks again for an invalid address, with no network call', async () => {
    const b = new SiteBrowser(f.siteUrl);
    const before = f.standIn.requests.length;
    for (const email of ['a@b@mail.test', 'alice@127.0.0.1', '', 'x'.repeat(300)]) {
      const res = await b.post('/bsso?bsso=start', { email });
      assert.equal(res.status, 400, email);
      assert.equal(res.headers.get('location'), null);
      assert.equal(codeOf(await res.text()), 'invalid_email');
    }
    assert.equal(f.standIn.requests.length, before);
  });

  it('keeps only safe return paths (threats 31, 45)', async () => {
    const b = new SiteBrowser(f.siteUrl);
    for (const returnTo of ['https://evil.test/', '//evil.test/x', '/.//evil.test/x', '/\\evil']) {
      const request = await b.start(ALICE, { return_to: returnTo });
      assert.equal(request.return_to, undefined, returnTo);
    }
    const page = await (await b.get('/bsso?bsso=start&return_to=%2F%2Fevil.test')).text();
    assert.match(page, /name="return_to" value="\/"/);
  });

  it('remembers the address in a first-party cookie only when asked, and forgets it when unticked', async () => {
    const b = new SiteBrowser(f.siteUrl);
    await b.start(ALICE, { remember: '1' });
    assert.equal(b.cookies.get('__Host-bsso_email'), encodeURIComponent(ALICE));
    const page = await (await b.get('/bsso?bsso=start')).text();
    assert.match(page, /value="alice@mail.test"/);
    assert.match(page, /name="remember" value="1" checked/);
    await b.start(ALICE);
    assert.equal(b.cookies.has('__Host-bsso_email'), false);
    const after = await (await b.get('/bsso?bsso=start')).text();
    assert.doesNotMatch(after, /value="alice@mail.test"/);
  });
});

describe('start page: a provider without a web endpoint', () => {
  it('shows a clear page and sends the browser nowhere', async () => {
    const f = await startFixture();
    try {
      f.standIn.behaviour.webEndpoint = false;
      const b = new SiteBrowser(f.siteUrl);
      const res = await b.post('/bsso?bsso=start', { email: ALICE });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /does not offer sign-in without the BSSO browser extension/);
      assert.equal(b.cookies.has('__Host-bsso_web'), false);
    } finally {
      await f.close();
    }
  });
});
