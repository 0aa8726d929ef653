// `associate: 'background'` (protocol-spec.md#challenge): a challenge for a provider the site
// has no live association with answers at once without a handle; discovery and the first
// association follow in the background, that sign-in verifies directly, the next is local.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSiteCore } from '../src/core/index.ts';
import { ALICE, ENDPOINT, hasSessionCookie, startFixture } from './helpers/fixture.ts';
import { gate, lockableAssociations } from './helpers/gates.ts';

describe("associate: 'background'", () => {
  test('the first challenge waits for no request of the site; the next one names the handle', {
    timeout: 20_000,
  }, async () => {
    let clock = () => 0;
    // The association lock held shut until the test opens it: a challenge that waited for the
    // first association would hang here.
    const associations = lockableAssociations(() => clock());
    const held = gate();
    associations.hold(held.opened);
    const fx = await startFixture({
      associate: 'background',
      stores: { associations: associations.cache },
    });
    clock = () => fx.clock.now;
    try {
      const browser = fx.browser();
      const first = await browser.challenge();
      assert.equal(first.handle, undefined, 'no handle: nothing was waited for');
      assert.equal(fx.standIn.count('/bsso/associate'), 0);
      held.open();
      await fx.core.settled();
      assert.equal(fx.standIn.count('/.well-known/webfinger'), 1);
      assert.equal(fx.standIn.count('/bsso/associate'), 1);

      // That sign-in: the provider signs with its own key, the site verifies directly.
      const signed = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: first.nonce,
      });
      const done = await browser.deliver({ assertion: signed });
      assert.equal(done.status, 303);
      assert.ok(hasSessionCookie(done));
      assert.equal(fx.standIn.count('/bsso/verify'), 1);

      // The next challenge names the association, and its sign-in makes no call.
      const other = fx.browser();
      const second = await other.challenge();
      assert.ok(second.handle, 'the handle of the association made in the background');
      const local = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: second.nonce,
        handle: second.handle,
      });
      const calls = fx.standIn.requests.length;
      assert.equal((await other.deliver({ assertion: local })).status, 303);
      assert.equal(fx.standIn.requests.length, calls, 'verified locally');
    } finally {
      await fx.close();
    }
  });

  test("'wait' (the default) still names the handle in the first challenge", async () => {
    const fx = await startFixture();
    try {
      const first = await fx.browser().challenge();
      assert.ok(first.handle);
      assert.equal(fx.standIn.count('/bsso/associate'), 1);
    } finally {
      await fx.close();
    }
  });

  test('refuses an unknown associate value at start', () => {
    assert.throws(
      () => createSiteCore({ endpoint: ENDPOINT, associate: 'later' as 'wait' }),
      /associate must be 'wait' or 'background'/,
    );
  });
});
