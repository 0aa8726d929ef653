// A rogue provider at https://evil.test asserts addresses of mail.test (threats 19, 23):
// the site believes only the provider mail.test's WebFinger names, whatever the key.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomToken } from '@bsso/protocol';
import {
  type Answer,
  type AttackWorld,
  ENDPOINT,
  hasSession,
  SiteBrowser,
  startAttackWorld,
} from '../src/attack-world.ts';
import { createRogueProvider, type RogueProvider } from '../src/rogue-provider.ts';

describe('a rogue provider', () => {
  let w: AttackWorld;
  let rogue: RogueProvider;
  before(async () => {
    rogue = await createRogueProvider('evil.test');
    w = await startAttackWorld({ extraSites: { 'evil.test': rogue.handler } });
  });
  after(() => w?.close());

  function claims(nonce: string, iss: string) {
    const iat = Math.floor(w.siteClock.ms / 1000);
    return {
      iss,
      sub: 'alice@mail.test',
      aud: ENDPOINT,
      nonce,
      iat,
      exp: iat + 60,
      jti: randomToken(16),
    };
  }

  /** A browser whose challenge warmed discovery of both domains and both associations. */
  async function ready(): Promise<{ b: SiteBrowser; nonce: string; evilHandle: string }> {
    const b = new SiteBrowser(w.site);
    const evil = await b.challenge('evil.test');
    const c = await b.challenge('mail.test');
    assert.ok(evil.body.handle && c.body.handle);
    return { b, nonce: String(c.body.nonce), evilHandle: String(evil.body.handle) };
  }

  function rejected(a: Answer, code: string): void {
    assert.equal(a.body.error, code, a.text);
    assert.equal(hasSession(a), false);
    assert.deepEqual(w.providerLog.serverToServer(), [], 'no call to the real provider');
  }

  test('its own key, its own issuer, an address of mail.test: invalid_issuer', async () => {
    const { b, nonce } = await ready();
    const token = await rogue.forge(claims(nonce, rogue.issuer));
    const calls = rogue.requests.length;
    w.providerLog.clear();
    rejected(await b.deliver(token), 'invalid_issuer');
    assert.equal(rogue.requests.length, calls, 'the rogue is never asked to vouch');
  });

  test('its association with this site, its own issuer: invalid_issuer', async () => {
    const { b, nonce, evilHandle } = await ready();
    const token = await rogue.forge(claims(nonce, rogue.issuer), evilHandle);
    w.providerLog.clear();
    rejected(await b.deliver(token), 'invalid_issuer');
  });

  test("its association handle under mail.test's issuer: unknown_association", async () => {
    const { b, nonce, evilHandle } = await ready();
    const token = await rogue.forge(claims(nonce, 'https://mail.test'), evilHandle);
    w.providerLog.clear();
    rejected(await b.deliver(token), 'unknown_association');
  });

  test("its own key under mail.test's issuer: the real provider says invalid_signature", async () => {
    const { b, nonce } = await ready();
    const token = await rogue.forge(claims(nonce, 'https://mail.test'));
    w.providerLog.clear();
    const a = await b.deliver(token);
    assert.equal(a.body.error, 'invalid_signature', a.text);
    assert.equal(hasSession(a), false);
    assert.deepEqual(w.providerLog.serverToServer(), ['/bsso/verify']);
    assert.equal(await b.me(), null);
  });
});
