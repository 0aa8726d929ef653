// Broker mode (protocol-spec.md#fallback; threats 46, 47): the provider serves addresses of
// domains that name no provider, proved by a one-time code mailed over real SMTP. A real SMTP
// server (smtp-server, STARTTLS and auth, on a port from the OS) receives the mail over the
// network and the code is read from the received message. The domains' WebFinger is a real
// https server reached through the broker's public-network guard (test allow-list).
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  BssoError,
  createJrd,
  createProviderConfig,
  decodeAssertion,
  parseEmail,
} from '@bsso/protocol';
import {
  jsonListener,
  makeTestPki,
  type ReceivedMail,
  startTestMailServer,
  type TestMailServer,
  testNetwork,
} from '@bsso/protocol/testing';
import { BROKER_MESSAGES, type BrokerOptions, brokerPaths, SESSION_COOKIE } from '../src/index.ts';
import {
  AUDIENCE,
  Browser,
  errorCode,
  nonce,
  type Running,
  removeDir,
  START,
  startProvider,
} from './helpers.ts';

const BROKER = 'https://broker.test';
const pki = makeTestPki([
  'smtp.test',
  'plain.test',
  'mail.test',
  'down.test',
  'hang1.test',
  'hang2.test',
  'hang3.test',
]);
const SMTP_USER = 'broker';
const SMTP_PASS = 'smtp secret';

let smtp: TestMailServer;
const mails: ReceivedMail[] = [];
let domains: HttpsServer;
const domainHits: string[] = [];

async function domainRoute(_method: string, url: URL): Promise<[number, unknown]> {
  if (url.pathname === '/.well-known/bsso-provider') {
    return [
      200,
      createProviderConfig('https://mail.test', {
        assertion_endpoint: '/a',
        association_endpoint: '/b',
        verification_endpoint: '/c',
        signin_endpoint: '/d',
      }),
    ];
  }
  const resource = url.searchParams.get('resource') ?? '';
  const email = parseEmail(resource.replace(/^acct:/, ''));
  if (email.domain === 'mail.test') {
    return [200, createJrd(email, 'https://mail.test/.well-known/bsso-provider')];
  }
  if (email.domain === 'down.test') return [503, { error: 'provider_unavailable' }];
  if (email.domain.startsWith('hang')) return new Promise(() => {}); // never answers
  throw new BssoError('not_found'); // plain.test: 404, names no provider
}

function brokerOptions(extra: Partial<BrokerOptions> = {}): BrokerOptions {
  const port = (domains.address() as AddressInfo).port;
  return {
    smtp: {
      host: '127.0.0.1',
      port: smtp.port,
      auth: { user: SMTP_USER, pass: SMTP_PASS },
      ca: pki.caPem,
      servername: 'smtp.test',
    },
    from: 'BSSO broker <no-reply@broker.test>',
    network: testNetwork({
      ca: pki.caPem,
      hosts: {
        'plain.test': port,
        'mail.test': port,
        'down.test': port,
        'hang1.test': port,
        'hang2.test': port,
        'hang3.test': port,
      },
    }),
    ...extra,
  };
}

async function startBroker(extra: Partial<BrokerOptions> = {}): Promise<Running> {
  return startProvider({ issuer: BROKER, domains: ['broker.test'], broker: brokerOptions(extra) });
}

/** The code of the last mail to `to`, read from the message as received. */
function codeFor(to: string): string {
  const mail = mails.findLast((m) => m.to.includes(to));
  const code = mail && /Your sign-in code is (\d{6})/.exec(mail.raw)?.[1];
  if (!code) throw new Error(`no code mailed to ${to}`);
  return code;
}

function mailsTo(to: string): number {
  return mails.filter((m) => m.to.includes(to)).length;
}

async function askCode(b: Browser, email: string) {
  const csrf_token = await b.csrf(`/signin?login_hint=${encodeURIComponent(email)}&popup=1`);
  const res = await b.postForm(brokerPaths.code, { csrf_token, email, popup: '1' });
  return { res, text: await res.text(), csrf_token };
}

async function typeCode(b: Browser, code: string) {
  const csrf_token = await b.csrf();
  const res = await b.postForm(brokerPaths.verify, { csrf_token, code, popup: '1' });
  return { res, text: await res.text() };
}

function hasSession(b: Browser): boolean {
  return b.cookies.has(SESSION_COOKIE);
}

async function assertionFor(b: Browser, email: string) {
  return b.askAssertion({ email, audience: AUDIENCE, nonce: nonce() });
}

describe('broker mode', () => {
  before(async () => {
    smtp = await startTestMailServer({
      cert: pki,
      user: SMTP_USER,
      pass: SMTP_PASS,
      onMail: (mail) => mails.push(mail),
    });
    domains = createHttpsServer(
      { key: pki.keyPem, cert: pki.certPem },
      jsonListener('https://domains.test', domainRoute, domainHits),
    );
    await new Promise<void>((resolve) => domains.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await smtp.close();
    domains.closeAllConnections();
    await new Promise((resolve) => domains.close(resolve));
  });

  describe('a code by mail', () => {
    let p: Running;
    before(async () => {
      p = await startBroker();
    });
    after(async () => {
      await p.stop();
      await removeDir(p.dataDir);
    });

    it('mails a code over STARTTLS with auth; the code signs in; later assertions are one request', async () => {
      const b = new Browser(p.base);
      const before = await assertionFor(b, 'bob@plain.test');
      assert.equal(before.status, 401);
      assert.equal(await errorCode(before), 'login_required');
      const { res, text } = await askCode(b, 'bob@plain.test');
      assert.equal(res.status, 200);
      assert.ok(text.includes(BROKER_MESSAGES.sent));
      const mail = mails.at(-1);
      assert.ok(mail);
      assert.deepEqual(mail.to, ['bob@plain.test']);
      assert.equal(mail.from, 'no-reply@broker.test');
      assert.equal(mail.secure, true, 'STARTTLS');
      assert.equal(mail.user, SMTP_USER, 'authenticated');
      assert.equal(hasSession(b), false);
      const done = await typeCode(b, codeFor('bob@plain.test'));
      assert.equal(done.res.status, 303);
      assert.match(done.res.headers.get('location') ?? '', /^\/signin\/done\?/);
      assert.ok(hasSession(b));
      const answer = await assertionFor(b, 'bob@plain.test');
      assert.equal(answer.status, 200);
      const { assertion } = (await answer.json()) as { assertion: string };
      const { claims } = decodeAssertion(assertion);
      assert.equal(claims.iss, BROKER);
      assert.equal(claims.sub, 'bob@plain.test');
    });

    it('the web endpoint serves a brokered address like the assertion endpoint, and refuses one with its own provider (web flow)', async () => {
      const b = new Browser(p.base);
      await askCode(b, 'carol@plain.test');
      assert.equal((await typeCode(b, codeFor('carol@plain.test'))).res.status, 303);
      const web = (email: string) =>
        b.fetch(
          `/bsso/web?${new URLSearchParams({ audience: AUDIENCE, nonce: nonce(), login_hint: email })}`,
        );
      const consent = await web('carol@plain.test');
      assert.equal(consent.status, 200);
      assert.match(await consent.text(), /<h1>Sign in to https:\/\/site\.test\?<\/h1>/);
      const own = await web('alice@mail.test');
      assert.equal(own.status, 404);
      const page = await own.text();
      assert.match(page, /Error code: <code>unknown_domain<\/code>/);
      assert.doesNotMatch(page, /name="assertion"/);
    });

    it('signed out, the web endpoint leads through the code page and back to itself, and nowhere else (web flow)', async () => {
      const b = new Browser(p.base);
      const web = `/bsso/web?${new URLSearchParams({ audience: AUDIENCE, nonce: nonce(), login_hint: 'dave@plain.test' })}`;
      const first = await b.fetch(web);
      assert.equal(first.status, 303);
      const signin = first.headers.get('location') ?? '';
      const ask = await (await b.fetch(signin)).text();
      assert.match(ask, /name="continue" value="\/bsso\/web\?audience=/);
      const csrf_token = /name="csrf_token" value="([^"]+)"/.exec(ask)?.[1] ?? '';
      const sent = await b.postForm(brokerPaths.code, {
        csrf_token,
        email: 'dave@plain.test',
        continue: web,
      });
      assert.match(await sent.text(), /name="continue" value="\/bsso\/web\?audience=/);
      const done = await b.postForm(brokerPaths.verify, {
        csrf_token,
        code: codeFor('dave@plain.test'),
        continue: web,
      });
      assert.equal(done.status, 303);
      assert.equal(done.headers.get('location'), web);
      assert.match(
        await (await b.fetch(web)).text(),
        /<h1>Sign in to https:\/\/site\.test\?<\/h1>/,
      );

      const other = new Browser(p.base);
      const { csrf_token: token } = await askCode(other, 'erin@plain.test');
      const elsewhere = await other.postForm(brokerPaths.verify, {
        csrf_token: token,
        code: codeFor('erin@plain.test'),
        continue: 'https://evil.test/bsso/web?x=1',
      });
      assert.equal(elsewhere.headers.get('location'), '/account');
    });

    it('refuses a domain that names its own provider, and one whose discovery failed (threat 46)', async () => {
      const b = new Browser(p.base);
      const sent = mails.length;
      const named = await askCode(b, 'alice@mail.test');
      assert.equal(named.res.status, 403);
      assert.ok(named.text.includes(BROKER_MESSAGES.hasProvider));
      const down = await askCode(b, 'eve@down.test');
      assert.equal(down.res.status, 503);
      assert.ok(down.text.includes(BROKER_MESSAGES.checkFailed));
      assert.equal(mails.length, sent, 'no mail');
      for (const email of ['alice@mail.test', 'eve@down.test']) {
        const res = await assertionFor(b, email);
        assert.equal(res.status, 404);
        assert.equal(await errorCode(res), 'unknown_domain');
      }
      assert.equal(hasSession(b), false);
    });

    it('refuses a wrong code, then spends the code after 5 attempts (threat 47)', async () => {
      const b = new Browser(p.base);
      await askCode(b, 'carol@plain.test');
      const code = codeFor('carol@plain.test');
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      for (let i = 0; i < 4; i++) {
        const r = await typeCode(b, wrong);
        assert.equal(r.res.status, 401);
        assert.ok(r.text.includes(BROKER_MESSAGES.wrong));
      }
      const last = await typeCode(b, wrong);
      assert.equal(last.res.status, 429);
      assert.ok(last.text.includes(BROKER_MESSAGES.spent));
      const right = await typeCode(b, code);
      assert.equal(right.res.status, 400, 'the right code no longer works');
      assert.equal(hasSession(b), false);
    });

    it('refuses an expired code (threat 47)', async () => {
      const b = new Browser(p.base);
      await askCode(b, 'dave@plain.test');
      p.clock.ms += 601_000;
      const r = await typeCode(b, codeFor('dave@plain.test'));
      assert.equal(r.res.status, 400);
      assert.ok(r.text.includes(BROKER_MESSAGES.unknown));
      assert.equal(hasSession(b), false);
    });

    it('refuses a reused code, even with the old cookie replayed (threat 47)', async () => {
      const b = new Browser(p.base);
      await askCode(b, 'erin@plain.test');
      const id = b.cookies.get('__Host-bsso_broker_code');
      assert.ok(id);
      const code = codeFor('erin@plain.test');
      assert.equal((await typeCode(b, code)).res.status, 303);
      const replay = new Browser(p.base);
      const csrf_token = await replay.csrf();
      const res = await replay.fetch(brokerPaths.verify, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `${replay.cookieHeader()}; __Host-bsso_broker_code=${id}`,
        },
        body: new URLSearchParams({ csrf_token, code }).toString(),
      });
      assert.equal(res.status, 400);
      assert.equal(hasSession(replay), false);
    });

    it('refuses a code typed in another browser (threat 47)', async () => {
      const asker = new Browser(p.base);
      await askCode(asker, 'frank@plain.test');
      const code = codeFor('frank@plain.test');
      const other = new Browser(p.base);
      const r = await typeCode(other, code);
      assert.equal(r.res.status, 400);
      assert.ok(r.text.includes(BROKER_MESSAGES.unknown));
      assert.equal(hasSession(other), false);
      // The asker's code is untouched by the other browser's try.
      assert.equal((await typeCode(asker, code)).res.status, 303);
    });

    it('answers alike for any address, and refuses header injection before any mail (threat 47)', async () => {
      const first = await askCode(new Browser(p.base), 'bob@plain.test'); // signed in before
      const fresh = await askCode(new Browser(p.base), 'nobody-ever@plain.test');
      assert.equal(first.res.status, fresh.res.status);
      const strip = (t: string, a: string) =>
        t
          .replaceAll(a, 'X')
          .replace(/value="[^"]{43}"/g, 'value="T"')
          .replace(/nonce="[^"]*"/g, '');
      assert.equal(
        strip(first.text, 'bob@plain.test'),
        strip(fresh.text, 'nobody-ever@plain.test'),
      );
      const sent = mails.length;
      for (const email of [
        'bob@plain.test\r\nBcc: eve@evil.test',
        'bob@plain.test\nBcc: eve@evil.test',
        'bob@plain.test, eve@evil.test',
        '"bob\r\nBcc: eve@evil.test"@plain.test',
      ]) {
        const r = await askCode(new Browser(p.base), email);
        assert.equal(r.res.status, 400, JSON.stringify(email));
      }
      assert.equal(mails.length, sent, 'no mail');
      for (const m of mails) {
        assert.equal(m.to.length, 1);
        assert.ok(!m.raw.includes('evil.test'));
      }
    });
  });

  describe('abuse limits (threat 47)', () => {
    it('limits codes per address', async () => {
      const p = await startBroker({ codesPerAddress: 2 });
      try {
        for (let i = 0; i < 2; i++) {
          assert.equal((await askCode(new Browser(p.base), 'gina@plain.test')).res.status, 200);
        }
        const sent = mailsTo('gina@plain.test');
        const b = new Browser(p.base);
        const r = await askCode(b, 'gina@plain.test');
        assert.equal(r.res.status, 429);
        assert.ok(r.text.includes(BROKER_MESSAGES.limited));
        assert.equal(mailsTo('gina@plain.test'), sent, 'no mail');
        assert.equal(b.cookies.has('__Host-bsso_broker_code'), false);
        p.clock.ms += 15 * 60_000;
        assert.equal((await askCode(new Browser(p.base), 'gina@plain.test')).res.status, 200);
      } finally {
        await p.stop();
        await removeDir(p.dataDir);
      }
    });

    it('limits codes per client across many addresses', async () => {
      const p = await startBroker({ codesPerClient: 3 });
      try {
        for (let i = 0; i < 3; i++) {
          assert.equal((await askCode(new Browser(p.base), `c${i}@plain.test`)).res.status, 200);
        }
        const sent = mails.length;
        const r = await askCode(new Browser(p.base), 'c9@plain.test');
        assert.equal(r.res.status, 429);
        assert.equal(mails.length, sent, 'no mail');
      } finally {
        await p.stop();
        await removeDir(p.dataDir);
      }
    });

    it('limits codes per domain', async () => {
      const p = await startBroker({ codesPerDomain: 2, codesPerClient: 100 });
      try {
        for (let i = 0; i < 2; i++) {
          assert.equal((await askCode(new Browser(p.base), `d${i}@plain.test`)).res.status, 200);
        }
        const sent = mails.length;
        const r = await askCode(new Browser(p.base), 'd9@plain.test');
        assert.equal(r.res.status, 429);
        assert.equal(mails.length, sent, 'no mail');
      } finally {
        await p.stop();
        await removeDir(p.dataDir);
      }
    });
  });

  it('bounds its own discoveries: a flood of hanging domains gets "try again" at once', async () => {
    const p = await startBroker({ discoveryConcurrency: 2, discoveryTimeoutMs: 1000 });
    try {
      const sent = mails.length;
      const asked = () => domainHits.filter((h) => h.includes('webfinger')).length;
      const baseline = asked();
      const hanging = [
        askCode(new Browser(p.base), 'a@hang1.test'),
        askCode(new Browser(p.base), 'b@hang2.test'),
      ];
      // Both look-ups are in flight once both hang at the domain's server.
      while (asked() < baseline + 2) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const before = domainHits.length;
      const third = await askCode(new Browser(p.base), 'c@hang3.test');
      assert.equal(third.res.status, 503);
      assert.ok(third.text.includes(BROKER_MESSAGES.checkFailed));
      assert.equal(domainHits.length, before, 'no request for the third domain');
      for (const r of await Promise.all(hanging)) assert.equal(r.res.status, 503);
      assert.equal(mails.length, sent, 'no mail');
    } finally {
      await p.stop();
      await removeDir(p.dataDir);
    }
  });

  it('says so when the mail server is down, and nothing is lost', async () => {
    const p = await startBroker({ codesPerAddress: 1 });
    try {
      smtp.down = true;
      const b = new Browser(p.base);
      const sent = mails.length;
      const r = await askCode(b, 'hal@plain.test');
      assert.equal(r.res.status, 503);
      assert.ok(r.text.includes(BROKER_MESSAGES.mailDown));
      assert.equal(mails.length, sent);
      assert.equal(b.cookies.has('__Host-bsso_broker_code'), false);
      smtp.down = false;
      // The failed try was not counted: the one code of this address still goes out.
      const again = await askCode(b, 'hal@plain.test');
      assert.equal(again.res.status, 200);
      assert.equal((await typeCode(b, codeFor('hal@plain.test'))).res.status, 303);
      assert.ok(hasSession(b));
    } finally {
      smtp.down = false;
      await p.stop();
      await removeDir(p.dataDir);
    }
  });

  it('validates the broker options at start', async () => {
    for (const bad of [
      { from: 'x@broker.test\r\nBcc: eve@evil.test' },
      { from: 'not an address' },
      { smtp: { host: '' } },
      { codeAttempts: 0 },
    ]) {
      await assert.rejects(
        startProvider({
          issuer: BROKER,
          domains: ['broker.test'],
          broker: { ...brokerOptions(), ...bad } as BrokerOptions,
        }),
        TypeError,
        JSON.stringify(bad),
      );
    }
    assert.ok(START > 0);
  });
});
