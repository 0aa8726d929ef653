// Which retired signing keys a rotation keeps (keys.ts): every key retired recently enough
// that an assertion it signed can still be valid (maximum lifetime plus clock skew, 6
// minutes), however many rotations happened; beyond that the 3 most recent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limits } from '@bsso/protocol';
import { createKeyRing, rotateSigningKey } from '../src/keys.ts';
import { removeDir, START, tempDir } from './helpers.ts';

const WINDOW_MS = (limits.maxAssertionLifetimeSeconds + limits.clockSkewSeconds) * 1000;

describe('signing key rotation', () => {
  it('keeps every key whose assertions can still be valid, then the 3 most recent', async () => {
    const dir = await tempDir();
    try {
      const ring = await createKeyRing(dir, START);
      const first = ring.current.kid;
      // Five rotations within a minute: all six public keys stay.
      const kids = [first];
      for (let i = 1; i <= 5; i++) kids.push(await rotateSigningKey(dir, START + i * 1000));
      assert.equal(await ring.reload(), kids[5]);
      assert.deepEqual([...ring.kids()].sort(), [...kids].sort());
      // Still inside the window for the oldest ones: nothing dropped.
      const inside = await rotateSigningKey(dir, START + 5000 + WINDOW_MS - 10_000);
      await ring.reload();
      assert.equal(ring.kids().length, 7);
      // Past the window: the current key and the 3 most recently retired.
      const later = await rotateSigningKey(dir, START + 5000 + 2 * WINDOW_MS);
      await ring.reload();
      assert.equal(ring.current.kid, later);
      assert.deepEqual(ring.kids(), [later, inside, kids[5], kids[4]]);
      assert.equal(ring.publicKey(first), undefined);
    } finally {
      await removeDir(dir);
    }
  });
});
