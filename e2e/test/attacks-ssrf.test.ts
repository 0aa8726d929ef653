// Threat 43: a domain's WebFinger or configuration names a host inside the site's network.
// The site never connects (a listener on the internal address counts every connection), the
// challenge still answers, a delivery fails closed with a fixed description naming nothing
// internal, and no session is made. Nothing leaves loopback: the sites' resolver is the test
// network's, where intranet.test answers 127.0.0.2, an address off the test allow-list.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createAssertion, createJrd, parseEmail } from '@bsso/protocol';
import { generateKeyPair } from 'jose';
import { type AttackWorld, ENDPOINT, SiteBrowser, startAttackWorld } from '../src/attack-world.ts';

const ROGUE = 'rogue.test';
const INTERNAL_NAME = 'intranet.test';
const INTERNAL_ADDRESS = '127.0.0.2';

// What rogue.test's WebFinger names, per local part of the address asked about.
function jrdFor(
  local: string,
  port: number,
): { status: number; body?: unknown; location?: string } {
  const email = parseEmail(`${local}@${ROGUE}`);
  const config = (origin: string) => ({
    status: 200,
    body: createJrd(email, `${origin}/.well-known/bsso-provider`),
  });
  switch (local) {
    case 'by-name':
      return config(`https://${INTERNAL_NAME}:${port}`);
    case 'by-literal':
      return config(`https://${INTERNAL_ADDRESS}:${port}`);
    case 'by-mapped':
      return config(`https://[::ffff:${INTERNAL_ADDRESS}]:${port}`);
    case 'by-decimal':
      return config(`https://2130706434:${port}`);
    case 'metadata':
      return config('https://169.254.169.254');
    default:
      // A WebFinger redirect hop to the internal host.
      return {
        status: 302,
        location: `https://${INTERNAL_NAME}:${port}/.well-known/webfinger?resource=acct:${email.address}`,
      };
  }
}

describe('outbound requests reach only public addresses (threat 43)', () => {
  let w: AttackWorld;
  let internal: Server;
  let internalPort = 0;
  let connections = 0;

  before(async () => {
    internal = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    internal.listen(0, INTERNAL_ADDRESS);
    await once(internal, 'listening');
    internalPort = (internal.address() as { port: number }).port;
    const rogue = (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', `https://${ROGUE}`);
      const resource = url.searchParams.get('resource') ?? '';
      const local = resource.replace(/^acct:/, '').split('@')[0] ?? '';
      const answer = jrdFor(local, internalPort);
      if (answer.location) {
        res.writeHead(answer.status, { location: answer.location }).end();
        return;
      }
      res
        .writeHead(answer.status, { 'content-type': 'application/jrd+json' })
        .end(JSON.stringify(answer.body));
    };
    w = await startAttackWorld({
      extraSites: { [ROGUE]: rogue },
      unlisted: { [INTERNAL_NAME]: INTERNAL_ADDRESS },
      site: { rateLimiter: false, discovery: { failureCacheSeconds: 0 } },
    });
  });
  after(async () => {
    await w?.close();
    internal?.close();
  });

  for (const local of ['by-name', 'by-literal', 'by-mapped', 'by-decimal', 'metadata', 'hop']) {
    test(`${local}: no connection inside, a fixed error, no session`, async () => {
      const before = connections;
      const b = new SiteBrowser(w.site);
      const challenge = await b.challenge(ROGUE);
      assert.equal(challenge.status, 200, 'the challenge answers');
      assert.equal(challenge.body.handle, undefined);
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const assertion = await createAssertion({
        issuer: `https://${ROGUE}`,
        email: `${local}@${ROGUE}`,
        audience: ENDPOINT,
        nonce: String(challenge.body.nonce),
        key: { kind: 'provider', kid: 'rogue-key-id-0000', privateKey },
        now: w.siteClock.ms,
      });
      const answer = await b.deliver(assertion);
      const expected = local === 'hop' ? 'discovery_failed' : 'provider_unavailable';
      assert.equal(answer.body.error, expected);
      assert.ok(answer.status === 502 || answer.status === 503, String(answer.status));
      const text = JSON.stringify(answer.body);
      for (const secret of [INTERNAL_NAME, INTERNAL_ADDRESS, String(internalPort), '169.254']) {
        assert.ok(!text.includes(secret), `the answer names ${secret}: ${text}`);
      }
      assert.equal(await b.me(), null, 'no session');
      assert.equal(connections - before, 0, 'the internal listener saw no connection');
    });
  }
});
