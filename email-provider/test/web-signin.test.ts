// The web endpoint (protocol-spec.md#web-flow; threat 48): sign-in, consent once per account
// and site origin, the delivery form POSTed to the audience only; every bad input a page
// with its code and nothing POSTed; the consent page unframeable and CSRF-protected.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeAssertion, type WebSignInRequest, webSignInUrl } from '@bsso/protocol';
import {
  AUDIENCE,
  Browser,
  ISSUER,
  nonce,
  PASSWORD,
  postJson,
  type Running,
  removeDir,
  SITE,
  startProvider,
} from './helpers.ts';

const ALICE = 'alice@mail.test';
const base: WebSignInRequest = {
  audience: AUDIENCE,
  nonce: nonce(),
  login_hint: ALICE,
  return_to: '/account?tab=1',
};

/** The path and query of a web request at the provider. */
function webPath(request: Partial<WebSignInRequest> = {}): string {
  const url = new URL(webSignInUrl(`${ISSUER}/bsso/web`, { ...base, ...request }));
  return `${url.pathname}${url.search}`;
}

function rawWebPath(query: string): string {
  return `/bsso/web?${query}`;
}

/** The delivery form of a page, if any: its action and fields. */
function deliveryForm(
  page: string,
): { action: string; fields: Record<string, string> } | undefined {
  const form = /<form method="post" action="([^"]+)" id="delivery">([\s\S]*?)<\/form>/.exec(page);
  if (!form?.[1]) return undefined;
  const fields: Record<string, string> = {};
  for (const m of (form[2] ?? '').matchAll(/name="([^"]+)" value="([^"]*)"/g)) {
    fields[m[1] ?? ''] = (m[2] ?? '').replaceAll('&amp;', '&').replaceAll('&#39;', "'");
  }
  return { action: (form[1] ?? '').replaceAll('&amp;', '&'), fields };
}

function csrfOf(page: string): string {
  const m = /name="csrf_token" value="([^"]+)"/.exec(page);
  if (!m?.[1]) throw new Error('no csrf token');
  return m[1];
}

/** The consent form's fields, as the page carries them. */
function consentFields(page: string, decision: 'continue' | 'cancel'): Record<string, string> {
  const fields: Record<string, string> = { decision };
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[m[1] ?? ''] = (m[2] ?? '').replaceAll('&amp;', '&');
  }
  return fields;
}

/** Nothing posts anywhere: no form whose action leaves the provider, no assertion. */
function assertNoPost(page: string): void {
  assert.equal(deliveryForm(page), undefined);
  assert.doesNotMatch(page, /action="https?:/);
  assert.doesNotMatch(page, /name="assertion"/);
}

function codeOf(page: string): string {
  return /Error code: <code>([a-z_]+)<\/code>/.exec(page)?.[1] ?? '';
}

async function signedIn(p: Running, email = ALICE): Promise<Browser> {
  const b = new Browser(p.base);
  const res = await b.signIn(email, PASSWORD);
  assert.equal(res.status, 303);
  return b;
}

/** Signs in, agrees once for the site; the browser is then a returning user. */
async function agreed(p: Running): Promise<Browser> {
  const b = await signedIn(p);
  const page = await (await b.fetch(webPath())).text();
  // The account may have agreed in an earlier test already.
  if (deliveryForm(page) !== undefined) return b;
  const res = await b.postForm('/bsso/web', consentFields(page, 'continue'));
  assert.equal(res.status, 200);
  return b;
}

async function recentSites(b: Browser): Promise<string> {
  const page = await (await b.fetch('/account')).text();
  return /<h2>Sites you signed in to recently<\/h2>\n([\s\S]*?)<h2>/.exec(page)?.[1] ?? page;
}

describe('web endpoint', () => {
  let p: Running;
  before(async () => {
    p = await startProvider({ assertionsPerClientPerMinute: 1000 });
    await p.provider.accounts.create(ALICE, PASSWORD);
    await p.provider.accounts.create('bob@mail.test', PASSWORD);
  });
  beforeEach(() => {
    p.clock.ms += 3_600_000;
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  it('is named by the configuration document', async () => {
    const config = (await (await fetch(`${p.base}/.well-known/bsso-provider`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(config.web_endpoint, `${ISSUER}/bsso/web`);
  });

  it('signed out: the sign-in page, back to the web endpoint, consent, then the form POST to the audience', async () => {
    const b = new Browser(p.base);
    const first = await b.fetch(webPath());
    assert.equal(first.status, 303);
    const signin = new URL(first.headers.get('location') ?? '', p.base);
    assert.equal(signin.pathname, '/signin');
    assert.equal(signin.searchParams.get('login_hint'), ALICE);
    assert.equal(signin.searchParams.get('continue'), webPath());
    const form = await (await b.fetch(`${signin.pathname}${signin.search}`)).text();
    assert.match(form, /name="continue" value="\/bsso\/web\?audience=/);
    const done = await b.postForm('/signin', {
      csrf_token: csrfOf(form),
      email: ALICE,
      password: PASSWORD,
      continue: webPath(),
    });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), webPath());

    const consent = await b.fetch(webPath());
    assert.equal(consent.status, 200);
    const page = await consent.text();
    assert.match(page, /<h1>Sign in to https:\/\/site\.test\?<\/h1>/);
    assert.match(page, /<strong>alice@mail\.test<\/strong>/);
    assertNoPost(page);

    const answer = await b.postForm('/bsso/web', consentFields(page, 'continue'));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('location'), null);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    const csp = answer.headers.get('content-security-policy') ?? '';
    assert.ok(csp.includes(`form-action ${SITE}`), csp);
    assert.ok(csp.includes("frame-ancestors 'none'"));
    const delivery = deliveryForm(await answer.text());
    assert.ok(delivery);
    assert.equal(delivery.action, AUDIENCE);
    assert.deepEqual(Object.keys(delivery.fields).sort(), ['assertion', 'return_to']);
    assert.equal(delivery.fields.return_to, '/account?tab=1');
    const { header, claims } = decodeAssertion(delivery.fields.assertion ?? '');
    assert.equal(header.alg, 'EdDSA');
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.sub, ALICE);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.nonce, nonce());
    assert.match(await recentSites(b), /https:\/\/site\.test/);
  });

  it('signed in and agreed before: straight to the form POST, no consent page', async () => {
    const b = await agreed(p);
    const again = await b.fetch(webPath());
    assert.equal(again.status, 200);
    assert.equal(deliveryForm(await again.text())?.action, AUDIENCE);
  });

  it('signs with the association the site names, as for the extension', async () => {
    const assoc = (await (await postJson(p.base, '/bsso/association', { site: SITE })).json()) as {
      handle: string;
    };
    const b = await agreed(p);
    const page = await (await b.fetch(webPath({ handle: assoc.handle }))).text();
    const { header } = decodeAssertion(deliveryForm(page)?.fields.assertion ?? '');
    assert.equal(header.alg, 'HS256');
    assert.equal(header.kid, assoc.handle);
    const stale = await (await b.fetch(webPath({ handle: 'x'.repeat(22) }))).text();
    const decoded = decodeAssertion(deliveryForm(stale)?.fields.assertion ?? '');
    assert.equal(decoded.header.alg, 'EdDSA');
    assert.equal(decoded.claims.invalidate_handle, 'x'.repeat(22));
  });

  it('asks again for another origin, and after the account forgets the site', async () => {
    const b = await agreed(p);
    const other = await (await b.fetch(webPath({ audience: 'https://other.test/bsso' }))).text();
    assert.match(other, /<h1>Sign in to https:\/\/other\.test\?<\/h1>/);
    const account = await (await b.fetch('/account')).text();
    assert.match(account, /<td>https:\/\/site\.test<\/td>/);
    const forget = await b.postForm('/account/sites/forget', {
      csrf_token: csrfOf(account),
      site: SITE,
    });
    assert.equal(forget.status, 303);
    const asked = await (await b.fetch(webPath())).text();
    assert.match(asked, /<h1>Sign in to https:\/\/site\.test\?<\/h1>/);
    assertNoPost(asked);
  });

  it('refuses an audience that is not https, has a query or fragment, or is not a URL, with a page and no POST (threat 48)', async () => {
    const b = await agreed(p);
    for (const audience of [
      'http://site.test/bsso',
      'https://site.test/bsso?x=1',
      'https://site.test/bsso#x',
      'javascript:alert(1)',
      '/bsso',
    ]) {
      const res = await b.fetch(webPath({ audience }));
      const page = await res.text();
      assert.equal(res.status, 400, audience);
      assert.equal(codeOf(page), 'insecure_url', audience);
      assertNoPost(page);
    }
  });

  it('refuses a missing or malformed nonce, address or parameters with a page and no POST (threat 48)', async () => {
    const b = await agreed(p);
    const good = new URL(webPath(), p.base).searchParams;
    const cases: [string, string, number, string][] = [];
    for (const name of ['nonce', 'audience', 'login_hint']) {
      const q = new URLSearchParams(good);
      q.delete(name);
      cases.push([`no ${name}`, q.toString(), 400, 'invalid_request']);
    }
    const short = new URLSearchParams(good);
    short.set('nonce', 'abc');
    cases.push(['short nonce', short.toString(), 400, 'invalid_request']);
    const twice = new URLSearchParams(good);
    twice.append('audience', 'https://evil.test/bsso');
    cases.push(['two audiences', twice.toString(), 400, 'invalid_request']);
    const extra = new URLSearchParams(good);
    extra.set('redirect_uri', 'https://evil.test/');
    cases.push(['unknown parameter', extra.toString(), 400, 'invalid_request']);
    const email = new URLSearchParams(good);
    email.set('login_hint', 'a@b@mail.test');
    cases.push(['bad address', email.toString(), 400, 'invalid_email']);
    const domain = new URLSearchParams(good);
    domain.set('login_hint', 'alice@other.test');
    cases.push(['foreign domain', domain.toString(), 404, 'unknown_domain']);
    const back = new URLSearchParams(good);
    back.set('return_to', '//evil.test/x');
    cases.push(['return path off the site', back.toString(), 400, 'invalid_request']);
    for (const [label, query, status, code] of cases) {
      const res = await b.fetch(rawWebPath(query));
      const page = await res.text();
      assert.equal(res.status, status, label);
      assert.equal(codeOf(page), code, label);
      assertNoPost(page);
    }
  });

  it('signed in as another address: a clear page, no POST', async () => {
    const b = await signedIn(p, 'bob@mail.test');
    const res = await b.fetch(webPath());
    assert.equal(res.status, 403);
    const page = await res.text();
    assert.equal(codeOf(page), 'wrong_account');
    assert.match(page, /bob@mail\.test/);
    assertNoPost(page);
  });

  it('serves the consent page unframeable and uncached (clickjacking, threat 48)', async () => {
    const b = await signedIn(p);
    const res = await b.fetch(webPath({ audience: 'https://framed.test/bsso' }));
    assert.equal(res.status, 200);
    assert.ok(
      (res.headers.get('content-security-policy') ?? '').includes("frame-ancestors 'none'"),
    );
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  });

  it('refuses a consent POST without the browser CSRF token or with another browser token: no consent, no POST', async () => {
    const victim = await signedIn(p);
    const attacker = await signedIn(p);
    const audience = 'https://csrf.test/bsso';
    const victimPage = await (await victim.fetch(webPath({ audience }))).text();
    const attackerPage = await (await attacker.fetch(webPath({ audience }))).text();
    const { csrf_token: _t, ...withoutToken } = consentFields(victimPage, 'continue');
    for (const fields of [withoutToken, { ...withoutToken, csrf_token: csrfOf(attackerPage) }]) {
      const res = await victim.postForm('/bsso/web', fields);
      const page = await res.text();
      assert.equal(res.status, 400);
      assert.equal(codeOf(page), 'invalid_request');
      assertNoPost(page);
    }
    const still = await (await victim.fetch(webPath({ audience }))).text();
    assert.match(still, /<h1>Sign in to https:\/\/csrf\.test\?<\/h1>/);
  });

  it('Cancel at consent: nothing recorded, nothing issued, nothing POSTed, a link back to the site', async () => {
    const b = await signedIn(p);
    const audience = 'https://cancel.test/bsso';
    const page = await (await b.fetch(webPath({ audience }))).text();
    const res = await b.postForm('/bsso/web', consentFields(page, 'cancel'));
    assert.equal(res.status, 200);
    const cancelled = await res.text();
    assert.match(cancelled, /Nothing was sent to https:\/\/cancel\.test\./);
    assert.match(cancelled, /<a href="https:\/\/cancel\.test\/account\?tab=1">/);
    assertNoPost(cancelled);
    assert.doesNotMatch(await recentSites(b), /cancel\.test/);
    const again = await (await b.fetch(webPath({ audience }))).text();
    assert.match(again, /<h1>Sign in to https:\/\/cancel\.test\?<\/h1>/);
  });

  it('the sign-in page goes on only to the provider own web endpoint (no open redirect)', async () => {
    for (const target of [
      'https://evil.test/bsso/web?x=1',
      '//evil.test/bsso/web?x=1',
      '/\\evil.test',
      '/account?x=1',
      '/bsso/web',
      '/bsso/assertion?x=1',
    ]) {
      const b = new Browser(p.base);
      const form = await (await b.fetch(`/signin?continue=${encodeURIComponent(target)}`)).text();
      assert.doesNotMatch(form, /name="continue"/, target);
      const res = await b.postForm('/signin', {
        csrf_token: csrfOf(form),
        email: ALICE,
        password: PASSWORD,
        continue: target,
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/account', target);
    }
  });
});

describe('web endpoint bodies', () => {
  it('answers a body too large or not decodable with a page and its code, never JSON or a POST', async () => {
    const p = await startProvider();
    try {
      const b = new Browser(p.base);
      const huge = await b.fetch('/bsso/web', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `a=${'x'.repeat(100_000)}`,
      });
      assert.equal(huge.status, 413);
      assert.match(huge.headers.get('content-type') ?? '', /text\/html/);
      const page = await huge.text();
      assert.equal(codeOf(page), 'payload_too_large');
      assertNoPost(page);
      const charset = await b.fetch('/bsso/web', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-7' },
        body: 'a=b',
      });
      assert.ok(charset.status >= 400 && charset.status < 500);
      assert.match(charset.headers.get('content-type') ?? '', /text\/html/);
      assertNoPost(await charset.text());
    } finally {
      await p.stop();
      await removeDir(p.dataDir);
    }
  });
});

describe('web endpoint limits', () => {
  it('counts requests per client: over the limit, a rate_limited page and no POST', async () => {
    const p = await startProvider({ assertionsPerClientPerMinute: 3 });
    try {
      const b = new Browser(p.base);
      for (let i = 0; i < 3; i++) assert.equal((await b.fetch(webPath())).status, 303);
      const res = await b.fetch(webPath());
      assert.equal(res.status, 429);
      const page = await res.text();
      assert.equal(codeOf(page), 'rate_limited');
      assertNoPost(page);
    } finally {
      await p.stop();
      await removeDir(p.dataDir);
    }
  });
});
