// Passkeys on the provider's pages over HTTP (pages/passkeys.ts): registration from the
// account page, the second factor of a password sign-in, removal; CSRF, sessions, the
// generic failure, the throttles. A software authenticator stands in for the browser's
// (Chromium's virtual authenticator runs in e2e/test/passkeys.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import fc from 'fast-check';
import { SIGNIN_FAILED, SIGNIN_THROTTLED } from '../src/pages/signin.ts';
import { Browser, ISSUER, PASSWORD, type Running, startProvider } from './helpers.ts';
import {
  type CreationOptions,
  pageOptions,
  SoftwareAuthenticator,
} from './software-authenticator.ts';

const ALICE = 'alice@mail.test';
const CAROL = 'carol@mail.test';
const PASSKEY_COOKIE = '__Host-bsso_passkey';
const SESSION_COOKIE = '__Host-bsso_provider';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';

async function metric(base: string, line: string): Promise<number> {
  const res = await fetch(`${base}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const text = await res.text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

function setCookieNames(res: Response): string[] {
  return res.headers.getSetCookie().map((c) => c.slice(0, c.indexOf('=')));
}

async function csrfOf(page: string): Promise<string> {
  const match = /name="csrf_token" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error('no csrf token');
  return match[1];
}

describe('passkey pages', () => {
  let running: Running;
  const authenticator = new SoftwareAuthenticator();

  /** Signs in with the password; returns the second factor's page (200) when asked for. */
  async function passwordStep(browser: Browser, email = ALICE, extra: Record<string, string> = {}) {
    const res = await browser.signIn(email, PASSWORD, extra);
    return { res, page: res.status === 200 ? await res.text() : '' };
  }

  async function secondFactor(browser: Browser, page: string, answer: string) {
    return browser.postForm('/signin/passkey', {
      csrf_token: await csrfOf(page),
      response: answer,
    });
  }

  before(async () => {
    running = await startProvider({ metricsToken: METRICS_TOKEN });
    await running.provider.accounts.create(ALICE, PASSWORD);
    await running.provider.accounts.create(CAROL, PASSWORD);
  });
  after(async () => running.stop());

  it('registers a passkey from the account page (signed in, CSRF-protected)', async () => {
    const anonymous = new Browser(running.base);
    const csrf = await anonymous.csrf();
    const signedOut = await anonymous.postForm('/account/passkeys/new', { csrf_token: csrf });
    assert.equal(signedOut.status, 303);
    assert.equal(signedOut.headers.get('location'), '/signin');

    const alice = new Browser(running.base);
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
    const account = await (await alice.fetch('/account')).text();
    assert.match(account, /No passkeys\./);
    assert.equal((await alice.postForm('/account/passkeys/new', { csrf_token: 'x' })).status, 403);
    const adding = await alice.postForm('/account/passkeys/new', {
      csrf_token: await csrfOf(account),
    });
    assert.equal(adding.status, 200);
    const page = await adding.text();
    const csp = adding.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    const options = pageOptions<CreationOptions>(page);
    assert.equal(options.rp.id, 'mail.test');
    const answer = authenticator.create(options, ISSUER);
    assert.equal(
      (await alice.postForm('/account/passkeys', { csrf_token: 'x', response: answer })).status,
      403,
      'no CSRF token, nothing stored',
    );
    const done = await alice.postForm('/account/passkeys', {
      csrf_token: await csrfOf(page),
      response: answer,
    });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/account');
    const listed = await (await alice.fetch('/account')).text();
    assert.match(listed, new RegExp(`<code>${authenticator.id.slice(0, 12)}</code>`));
    // The challenge was used: the same answer again is refused with a page, not a 500.
    const again = await alice.postForm('/account/passkeys', {
      csrf_token: await csrfOf(page),
      response: answer,
    });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /The passkey was not added/);
  });

  it('the right password leads to the passkey page, no session; the passkey starts it', async () => {
    const browser = new Browser(running.base);
    const { res, page } = await passwordStep(browser);
    assert.equal(res.status, 200);
    assert.match(page, /Confirm with your passkey/);
    assert.deepEqual(
      setCookieNames(res).filter((n) => n !== '__Host-bsso_csrf'),
      [PASSKEY_COOKIE],
    );
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(PASSKEY_COOKIE)) ?? '';
    assert.match(cookie, /; Secure; HttpOnly; SameSite=Strict; Max-Age=300/);
    const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(page);
    assert.deepEqual(
      options.allowCredentials?.map((c) => c.id),
      [authenticator.id],
    );
    const done = await secondFactor(browser, page, authenticator.get(options, ISSUER));
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/account');
    assert.ok(setCookieNames(done).includes(SESSION_COOKIE));
    assert.match(await (await browser.fetch('/account')).text(), /Signed in as/);
  });

  it('metrics: the passkey step is no outcome; its success a sign-in, its failure a failure', async () => {
    const signins = 'bsso_signins_total{backend="builtin"}';
    const failures = 'bsso_signin_failures_total{reason="invalid_credentials"}';
    const before = [await metric(running.base, signins), await metric(running.base, failures)];
    const browser = new Browser(running.base);
    const { page } = await passwordStep(browser);
    assert.deepEqual(
      [await metric(running.base, signins), await metric(running.base, failures)],
      before,
    );
    const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(page);
    await secondFactor(browser, page, authenticator.get(options, ISSUER));
    const { page: again } = await passwordStep(browser);
    await secondFactor(browser, again, '');
    assert.deepEqual(
      [await metric(running.base, signins), await metric(running.base, failures)],
      [(before[0] ?? 0) + 1, (before[1] ?? 0) + 1],
    );
  });

  it('a passkey alone signs in from the sign-in page’s button (popup and all)', async () => {
    const browser = new Browser(running.base);
    const signin = await (await browser.fetch('/signin?popup=1')).text();
    assert.match(signin, /action="\/signin\/passkey\/start"/);
    assert.match(signin, />Use a passkey</);
    const csrf_token = await csrfOf(signin);
    assert.equal((await browser.postForm('/signin/passkey/start', { popup: '1' })).status, 403);
    const started = await browser.postForm('/signin/passkey/start', { csrf_token, popup: '1' });
    assert.equal(started.status, 200);
    const page = await started.text();
    assert.match(page, /Sign in with a passkey/);
    const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(page);
    assert.equal(options.userVerification, 'required');
    const done = await secondFactor(browser, page, authenticator.get(options, ISSUER));
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/signin/done?bsso_popup=done');
    assert.ok(setCookieNames(done).includes(SESSION_COOKIE));
    // Without user verification: the generic failure, no session.
    const other = new Browser(running.base);
    const again = await other.postForm('/signin/passkey/start', {
      csrf_token: await other.csrf(),
    });
    const unverifiedPage = await again.text();
    const unverified = await secondFactor(
      other,
      unverifiedPage,
      authenticator.get(pageOptions(unverifiedPage), ISSUER, { userVerified: false }),
    );
    assert.equal(unverified.status, 401);
    assert.equal(setCookieNames(unverified).includes(SESSION_COOKIE), false);
  });

  it('from the popup, the passkey leads to the popup landing page', async () => {
    const browser = new Browser(running.base);
    const { page } = await passwordStep(browser, ALICE, { popup: '1' });
    const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(page);
    const done = await secondFactor(browser, page, authenticator.get(options, ISSUER));
    assert.equal(done.headers.get('location'), '/signin/done?bsso_popup=done');
  });

  it('the web flow goes on after the passkey; after a failure the page keeps where to go', async () => {
    const next = '/bsso/web?audience=x';
    const browser = new Browser(running.base);
    const { page } = await passwordStep(browser, ALICE, { continue: next });
    const failed = await secondFactor(browser, page, '');
    const again = await failed.text();
    assert.match(again, /name="continue" value="\/bsso\/web\?audience=x"/);
    assert.match(again, /value="alice@mail\.test"/);
    const { page: second } = await passwordStep(browser, ALICE, { continue: next });
    const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(second);
    const done = await secondFactor(browser, second, authenticator.get(options, ISSUER));
    assert.equal(done.headers.get('location'), next);
  });

  it('hostile answers never give a 500 or a session', async () => {
    const browser = new Browser(running.base);
    const answers = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            id: fc.oneof(fc.string(), fc.constant(authenticator.id)),
            rawId: fc.oneof(fc.string(), fc.constant(authenticator.id)),
            type: fc.oneof(fc.string(), fc.constant('public-key')),
            response: fc.dictionary(
              fc.constantFrom(
                'clientDataJSON',
                'authenticatorData',
                'signature',
                'userHandle',
                'attestationObject',
                'transports',
              ),
              fc.oneof(fc.string(), fc.base64String(), fc.jsonValue()),
            ),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(answers, fc.boolean(), async (answer, pending) => {
        running.clock.ms += 16 * 60_000; // each run on fresh throttles
        const page = pending
          ? (await passwordStep(browser)).page
          : await (await browser.fetch('/signin')).text();
        const res = await secondFactor(browser, page, answer);
        assert.ok([401, 403].includes(res.status), String(res.status));
        assert.equal(setCookieNames(res).includes(SESSION_COOKIE), false);
      }),
      { numRuns: 30 },
    );
    // Registration answers, signed in (Carol has no passkey), with and without a challenge.
    const carol = new Browser(running.base);
    assert.equal((await carol.signIn(CAROL, PASSWORD)).status, 303);
    await fc.assert(
      fc.asyncProperty(answers, fc.boolean(), async (answer, started) => {
        const account = await (await carol.fetch('/account')).text();
        let csrf_token = await csrfOf(account);
        if (started) {
          const adding = await carol.postForm('/account/passkeys/new', { csrf_token });
          csrf_token = await csrfOf(await adding.text());
        }
        const res = await carol.postForm('/account/passkeys', { csrf_token, response: answer });
        assert.equal(res.status, 400);
      }),
      { numRuns: 30 },
    );
    assert.match(await (await carol.fetch('/account')).text(), /No passkeys\./);
  });

  it('a failed, malformed, missing or reused second factor: the generic page, no session', async () => {
    const browser = new Browser(running.base);
    const { page } = await passwordStep(browser);
    const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(page);
    for (const answer of ['', '{', authenticator.get({ ...options, challenge: 'AAAA' }, ISSUER)]) {
      const { page: again } = await passwordStep(browser);
      const res = await secondFactor(browser, again, answer);
      assert.equal(res.status, 401);
      assert.match(await res.text(), new RegExp(SIGNIN_FAILED.replace('.', '\\.')));
      assert.equal(setCookieNames(res).includes(SESSION_COOKIE), false);
    }
    // The first page's pending sign-in was replaced by the later ones (one cookie per
    // browser), and each was used once: a valid answer to it is refused now.
    const late = await secondFactor(browser, page, authenticator.get(options, ISSUER));
    assert.equal(late.status, 401);
    // Without any pending sign-in (another browser), and without a CSRF token.
    const stranger = new Browser(running.base);
    const csrf = await stranger.csrf();
    const none = await stranger.postForm('/signin/passkey', { csrf_token: csrf, response: '' });
    assert.equal(none.status, 401);
    assert.equal((await stranger.postForm('/signin/passkey', { response: '' })).status, 403);
    const account = await browser.fetch('/account');
    assert.equal(account.headers.get('location'), '/signin', 'no session');
  });

  it('an account without passkeys signs in with the password alone', async () => {
    const browser = new Browser(running.base);
    const res = await browser.signIn(CAROL, PASSWORD);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/account');
  });

  it('failed second factors count like wrong passwords: the client is throttled on the account', async () => {
    running.clock.ms += 16 * 60_000; // past the earlier tests' failures
    const other = new SoftwareAuthenticator();
    const browser = new Browser(running.base);
    let throttledAt = 0;
    for (let i = 1; i <= 10 && throttledAt === 0; i++) {
      const { res, page } = await passwordStep(browser);
      if (res.status === 429) {
        throttledAt = i;
        assert.match(await res.text(), new RegExp(SIGNIN_THROTTLED.replace('.', '\\.')));
        break;
      }
      const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(page);
      assert.equal((await secondFactor(browser, page, other.get(options, ISSUER))).status, 401);
    }
    assert.equal(throttledAt, 6, 'five failures, then even the right password waits');
  });

  it('removes a passkey (CSRF-protected, own passkeys only)', async () => {
    running.clock.ms += 60 * 60_000;
    const carol = new Browser(running.base);
    await carol.signIn(CAROL, PASSWORD);
    const carolPage = await (await carol.fetch('/account')).text();
    const stolen = await carol.postForm('/account/passkeys/remove', {
      csrf_token: await csrfOf(carolPage),
      id: authenticator.id,
    });
    assert.equal(stolen.status, 303);
    const alice = new Browser(running.base);
    const { page } = await passwordStep(alice);
    const options = pageOptions<PublicKeyCredentialRequestOptionsJSON>(page);
    assert.equal((await secondFactor(alice, page, authenticator.get(options, ISSUER))).status, 303);
    const account = await (await alice.fetch('/account')).text();
    assert.equal(
      (await alice.postForm('/account/passkeys/remove', { csrf_token: 'x', id: authenticator.id }))
        .status,
      403,
    );
    const removed = await alice.postForm('/account/passkeys/remove', {
      csrf_token: await csrfOf(account),
      id: authenticator.id,
    });
    assert.equal(removed.status, 303);
    assert.match(await (await alice.fetch('/account')).text(), /No passkeys\./);
    assert.equal((await new Browser(running.base).signIn(ALICE, PASSWORD)).status, 303);
  });
});

describe('passkey pages with an external account back-end', () => {
  it('do not exist: no section, no paths (the back-end keeps its own second factors)', async () => {
    const running = await startProvider({
      accountBackend: { type: 'imap', host: 'imap.mail.test' },
    });
    try {
      const browser = new Browser(running.base);
      const csrf_token = await browser.csrf();
      assert.doesNotMatch(await (await browser.fetch('/signin')).text(), /passkey/i);
      const paths = ['/account/passkeys/new', '/account/passkeys', '/signin/passkey'];
      for (const path of [...paths, '/signin/passkey/start']) {
        assert.equal((await browser.postForm(path, { csrf_token })).status, 404, path);
      }
    } finally {
      await running.stop();
    }
  });
});
