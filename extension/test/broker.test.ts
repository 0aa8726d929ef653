// The extension's fallback broker (protocol-spec.md#fallback, rule 6; threat 46): only the
// domain's answer no_provider sends an address to the broker set in the options; a transient
// failure of the domain's discovery is an error and the broker is never asked.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  BssoError,
  createProviderConfig,
  type FetchLike,
  type ProviderConfig,
} from '@bsso/protocol';
import { createDiscoveryCache } from '../src/background/discovery-cache.ts';
import {
  BROKER_KEY,
  brokeredAddresses,
  parseBrokerOrigin,
  readBroker,
  setBroker,
  withBrokerFallback,
} from '../src/shared/broker.ts';
import { memoryArea } from './memory-area.ts';

const BROKER = 'https://broker.test';
const brokerConfig = createProviderConfig(BROKER, {
  assertion_endpoint: '/bsso/assertion',
  association_endpoint: '/bsso/association',
  verification_endpoint: '/bsso/verify',
  signin_endpoint: '/signin',
});
const ownConfig = createProviderConfig('https://mail.test', {
  assertion_endpoint: '/bsso/assertion',
  association_endpoint: '/bsso/association',
  verification_endpoint: '/bsso/verify',
  signin_endpoint: '/signin',
});

let server: Server;
let brokerHits = 0;
// https://broker.test/… answered by a local server (the configuration only).
let routed: FetchLike;

function domainAnswer(kind: string): (email: string) => Promise<{ config: ProviderConfig }> {
  return async () => {
    if (kind === 'own') return { config: ownConfig };
    if (kind === 'no_provider') throw new BssoError('no_provider');
    if (kind === 'timeout') throw new BssoError('provider_timeout');
    throw new BssoError('discovery_failed', 'WebFinger answered 503.');
  };
}

describe('fallback broker in the extension', () => {
  before(async () => {
    server = createServer((_req, res) => {
      brokerHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(brokerConfig));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    routed = (input, init) => {
      const url = new URL(input);
      return fetch(`http://127.0.0.1:${port}${url.pathname}`, init);
    };
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('stores only a bare https origin as the broker', async () => {
    const area = memoryArea();
    await setBroker(area, ` ${BROKER} `);
    assert.equal(await readBroker(area), BROKER);
    for (const bad of [
      'http://broker.test',
      'https://broker.test/',
      'https://broker.test/x',
      'x',
    ]) {
      await assert.rejects(setBroker(area, bad), BssoError, bad);
    }
    assert.equal(await readBroker(area), BROKER);
    await setBroker(area, '');
    assert.equal(await readBroker(area), undefined);
    area.data.set(BROKER_KEY, 'javascript:alert(1)');
    assert.equal(await readBroker(area), undefined, 'a bad stored value is ignored');
    assert.throws(() => parseBrokerOrigin('https://broker.test:8443/'), BssoError);
  });

  it('uses the broker when the domain names no provider', async () => {
    const discover = withBrokerFallback({
      discover: domainAnswer('no_provider'),
      broker: async () => BROKER,
      fetch: routed,
    });
    const found = await discover('bob@plain.test');
    assert.equal(found.broker, BROKER);
    assert.equal(found.config.issuer, BROKER);
    assert.equal(found.config.assertion_endpoint, `${BROKER}/bsso/assertion`);
  });

  for (const kind of ['timeout', 'discovery_failed']) {
    it(`never uses the broker on a transient failure: ${kind} (threat 46)`, async () => {
      const before = brokerHits;
      const discover = withBrokerFallback({
        discover: domainAnswer(kind),
        broker: async () => BROKER,
        fetch: routed,
      });
      await assert.rejects(discover('bob@down.test'), (err: unknown) => {
        assert.ok(err instanceof BssoError);
        assert.equal(err.code, kind === 'timeout' ? 'provider_timeout' : 'discovery_failed');
        return true;
      });
      assert.equal(brokerHits, before, 'the broker is never asked');
    });
  }

  it('never uses the broker for a domain that names a provider (threat 46)', async () => {
    const before = brokerHits;
    const discover = withBrokerFallback({
      discover: domainAnswer('own'),
      broker: async () => BROKER,
      fetch: routed,
    });
    const found = await discover('alice@mail.test');
    assert.equal(found.broker, undefined);
    assert.equal(found.config.issuer, 'https://mail.test');
    assert.equal(brokerHits, before);
  });

  it('without a broker set, no_provider stays the error', async () => {
    const discover = withBrokerFallback({
      discover: domainAnswer('no_provider'),
      broker: async () => undefined,
      fetch: routed,
    });
    await assert.rejects(discover('bob@plain.test'), (err: unknown) => {
      assert.ok(err instanceof BssoError);
      assert.equal(err.code, 'no_provider');
      return true;
    });
  });

  it('caches the broker answer, but not across a change of broker', async () => {
    const area = memoryArea();
    await setBroker(area, BROKER);
    let discoveries = 0;
    const lookup = createDiscoveryCache({
      area,
      now: () => 0,
      currentBroker: () => readBroker(area),
      discover: (email) => {
        discoveries++;
        return withBrokerFallback({
          discover: domainAnswer('no_provider'),
          broker: () => readBroker(area),
          fetch: routed,
        })(email);
      },
    });
    assert.deepEqual(await lookup('bob@plain.test'), {
      issuer: BROKER,
      assertionEndpoint: `${BROKER}/bsso/assertion`,
      broker: BROKER,
    });
    await lookup('bob@plain.test');
    assert.equal(discoveries, 1, 'cached');
    await setBroker(area, '');
    await assert.rejects(lookup('bob@plain.test'));
    assert.equal(discoveries, 2, 'the cleared broker is not reused');
  });

  it('tells which addresses go through a broker (options page and chooser)', async () => {
    const area = memoryArea();
    await setBroker(area, BROKER);
    const lookup = createDiscoveryCache({
      area,
      now: () => 0,
      currentBroker: () => readBroker(area),
      discover: withBrokerFallback({
        discover: async (email) =>
          domainAnswer(email.endsWith('@plain.test') ? 'no_provider' : 'own')(email),
        broker: () => readBroker(area),
        fetch: routed,
      }),
    });
    await lookup('bob@plain.test');
    await lookup('alice@mail.test');
    const via = await brokeredAddresses(area, ['bob@plain.test', 'alice@mail.test', 'new@x.test']);
    assert.deepEqual([...via], [['bob@plain.test', BROKER]]);
  });
});
