// Fallback brokers at the site (protocol-spec.md#fallback, threat 46): a listed broker's
// assertion is accepted only for an address whose domain answered that it names no provider
// (a WebFinger 404, or a JRD without the BSSO link), in both verification modes; never for a
// domain that names a provider, never on a discovery failure, never from an unlisted issuer.
// Real https servers: the stand-in provider for mail.test, the same stand-in playing the
// broker on broker.test, and a server answering WebFinger for domains without a provider.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BssoError, createAssertion } from '@bsso/protocol';
import { jsonListener, makeTestPki, testNetwork } from '@bsso/protocol/testing';
import express from 'express';
import { parseFallbackBrokers } from '../src/core/brokers.ts';
import { type BssoOptions, bsso } from '../src/index.ts';
import { Browser, hasSessionCookie } from './helpers/fixture.ts';
import { type StandIn, startStandIn } from './helpers/stand-in-provider.ts';

const ENDPOINT = 'https://site.test/bsso';
const BROKER = 'https://broker.test';
const pki = makeTestPki([
  'mail.test',
  'site.test',
  'broker.test',
  'plain.test',
  'nolink.test',
  'down.test',
]);
const clock = { now: Date.UTC(2030, 0, 1) };
const now = () => clock.now;

let provider: StandIn; // mail.test's own provider; its WebFinger answers 404 for plain.test
let broker: StandIn;
let domains: HttpsServer; // nolink.test (a JRD without the BSSO link), down.test (503)
const domainHits: string[] = [];
const open: { close(): Promise<void> }[] = [];

async function domainRoute(_method: string, url: URL): Promise<[number, unknown]> {
  const resource = url.searchParams.get('resource') ?? '';
  if (resource.endsWith('@down.test')) return [503, { error: 'provider_unavailable' }];
  if (resource.endsWith('@nolink.test')) {
    return [200, { subject: resource, links: [{ rel: 'describedby', href: 'https://x.test' }] }];
  }
  throw new BssoError('not_found');
}

async function site(options: Partial<BssoOptions> = {}): Promise<Browser & { close?: never }> {
  const hosts: Record<string, number> = {
    'mail.test': provider.port,
    'plain.test': provider.port,
    'broker.test': broker.port,
    'nolink.test': (domains.address() as AddressInfo).port,
    'down.test': (domains.address() as AddressInfo).port,
  };
  const app = express();
  app.use(
    bsso({
      endpoint: ENDPOINT,
      now,
      fallbackBrokers: [BROKER],
      outbound: { network: testNetwork({ ca: pki.caPem, hosts }), retries: 0 },
      ...options,
    }),
  );
  app.get('/me', (req, res) => {
    res.json({ email: req.bsso.email });
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  open.push({
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
  return new Browser(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/** Requests of every server, to assert that nothing further was asked. */
function allRequests(): number {
  return provider.requests.length + broker.requests.length + domainHits.length;
}

describe('fallback brokers at the site', () => {
  before(async () => {
    provider = await startStandIn(pki, now);
    broker = await startStandIn(pki, now, BROKER);
    domains = createHttpsServer(
      { key: pki.keyPem, cert: pki.certPem },
      jsonListener('https://domains.test', domainRoute, domainHits),
    );
    await new Promise<void>((resolve) => domains.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of open) await s.close();
    await provider.close();
    await broker.close();
    domains.closeAllConnections();
    await new Promise((resolve) => domains.close(resolve));
  });

  it('association mode: the challenge gives the broker handle; its assertion signs in; the negative answer is cached', async () => {
    const browser = await site();
    const challenge = await browser.challenge('plain.test');
    assert.ok(challenge.handle, 'the broker association handle');
    assert.ok(broker.associations.has(challenge.handle));
    const assertion = await broker.assertionFor({
      email: 'bob@plain.test',
      audience: ENDPOINT,
      nonce: challenge.nonce,
      handle: challenge.handle,
    });
    assert.match(assertion.split('.')[0] ?? '', /./);
    const done = await browser.deliver({ assertion });
    assert.equal(done.status, 303, done.text);
    assert.ok(hasSessionCookie(done));
    assert.equal(await browser.me(), 'bob@plain.test');
    assert.equal(broker.count('/bsso/verify'), 0, 'verified with the association');

    // A second sign-in of the domain: no WebFinger again (the answer is cached), no call at all.
    const before = allRequests();
    const second = await site();
    const c2 = await second.challenge('plain.test');
    const a2 = await broker.assertionFor({
      email: 'carol@plain.test',
      audience: ENDPOINT,
      nonce: c2.nonce,
      ...(c2.handle ? { handle: c2.handle } : {}),
    });
    assert.equal((await second.deliver({ assertion: a2 })).status, 303);
    // The second site is another core: it discovers once and associates once, nothing more.
    assert.equal(provider.count('/.well-known/webfinger'), 2);
    assert.ok(allRequests() - before <= 3);
    const c3 = await second.challenge('plain.test');
    const a3 = await broker.assertionFor({
      email: 'carol@plain.test',
      audience: ENDPOINT,
      nonce: c3.nonce,
      ...(c3.handle ? { handle: c3.handle } : {}),
    });
    const third = allRequests();
    assert.equal((await second.deliver({ assertion: a3 })).status, 303);
    assert.equal(allRequests(), third, 'a warm broker sign-in makes no outbound call');
  });

  it('direct mode: the broker verifies its own assertion', async () => {
    const browser = await site({ verification: 'direct' });
    const { nonce, handle } = await browser.challenge('nolink.test');
    assert.equal(handle, undefined);
    const assertion = await broker.assertionFor({
      email: 'dan@nolink.test',
      audience: ENDPOINT,
      nonce,
    });
    const verifies = broker.count('/bsso/verify');
    const done = await browser.deliver({ assertion });
    assert.equal(done.status, 303, done.text);
    assert.equal(await browser.me(), 'dan@nolink.test');
    assert.equal(broker.count('/bsso/verify'), verifies + 1);
  });

  it('refuses a broker for a domain that names its own provider (threat 46)', async () => {
    const browser = await site();
    const { nonce } = await browser.challenge('mail.test');
    const assertion = await broker.assertionFor({
      email: 'alice@mail.test',
      audience: ENDPOINT,
      nonce,
    });
    const brokerCalls = broker.requests.length;
    const done = await browser.deliver({ assertion });
    assert.equal(done.status, 400);
    assert.equal(done.body.error, 'invalid_issuer');
    assert.equal(hasSessionCookie(done), false);
    assert.equal(await browser.me(), null);
    assert.equal(broker.requests.length, brokerCalls, 'the broker is never asked');
  });

  it('never hands a domain whose discovery failed to the broker (threat 46)', async () => {
    const browser = await site();
    const { nonce, handle } = await browser.challenge('down.test');
    assert.equal(handle, undefined, 'no broker handle for a failed discovery');
    const assertion = await broker.assertionFor({
      email: 'eve@down.test',
      audience: ENDPOINT,
      nonce,
    });
    const brokerCalls = broker.requests.length;
    const done = await browser.deliver({ assertion });
    assert.equal(done.body.error, 'discovery_failed');
    assert.equal(hasSessionCookie(done), false);
    assert.equal(await browser.me(), null);
    assert.equal(broker.requests.length, brokerCalls, 'the broker is never asked');
  });

  it('refuses an issuer that is not a listed broker, with no outbound call (threat 46)', async () => {
    const browser = await site(); // its challenge discovers plain.test
    const { nonce } = await browser.challenge('plain.test');
    const rogue = await createAssertion({
      issuer: 'https://rogue.test',
      email: 'bob@plain.test',
      audience: ENDPOINT,
      nonce,
      now: now(),
      key: { kind: 'provider', kid: broker.kid, privateKey: broker.privateKey },
    });
    const before = allRequests();
    const done = await browser.deliver({ assertion: rogue });
    assert.equal(done.body.error, 'invalid_issuer');
    assert.equal(hasSessionCookie(done), false);
    assert.equal(allRequests(), before, 'no outbound call');
  });

  it('without fallbackBrokers, an address of a domain without a provider is no_provider', async () => {
    const browser = await site({ fallbackBrokers: [] });
    const { nonce, handle } = await browser.challenge('plain.test');
    assert.equal(handle, undefined);
    const assertion = await broker.assertionFor({
      email: 'bob@plain.test',
      audience: ENDPOINT,
      nonce,
    });
    const brokerCalls = broker.requests.length;
    const done = await browser.deliver({ assertion });
    assert.equal(done.body.error, 'no_provider');
    assert.equal(hasSessionCookie(done), false);
    assert.equal(broker.requests.length, brokerCalls);
  });

  it('keeps the answer "names no provider" as long as a provider, not as briefly as a failure', async () => {
    const browser = await site({ discovery: { failureCacheSeconds: 30, cacheTtlSeconds: 3600 } });
    const asked = () => provider.count('/.well-known/webfinger');
    await browser.challenge('plain.test');
    const first = asked();
    clock.now += 60_000;
    await browser.challenge('plain.test');
    assert.equal(asked(), first, 'still cached after the failure time');
    clock.now += 3600_000;
    await browser.challenge('plain.test');
    assert.equal(asked(), first + 1, 'asked again after the cache time');
  });

  it('validates fallbackBrokers at start', () => {
    assert.deepEqual(parseFallbackBrokers(undefined), []);
    assert.deepEqual(parseFallbackBrokers([BROKER]), [BROKER]);
    for (const bad of [
      'https://broker.test',
      ['https://broker.test/'],
      ['https://broker.test/path'],
      ['http://broker.test'],
      ['https://broker.test?x=1'],
      [BROKER, BROKER],
      [42],
    ]) {
      assert.throws(() => parseFallbackBrokers(bad), TypeError, JSON.stringify(bad));
      assert.throws(
        () => bsso({ endpoint: ENDPOINT, fallbackBrokers: bad as string[] }),
        TypeError,
      );
    }
    assert.deepEqual(parseFallbackBrokers(['http://localhost:4000'], true), [
      'http://localhost:4000',
    ]);
  });
});
