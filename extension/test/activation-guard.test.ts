// The agreeing button waits after the window is shown or regains focus (threat 41).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTIVATION_DELAY_MS, createActivationGuard } from '../src/shared/activation-guard.ts';

describe('activation guard', () => {
  it('ignores activation until the delay has passed since the window was shown', () => {
    const clock = { now: 1000 };
    const guard = createActivationGuard(() => clock.now);
    assert.equal(guard.armed(), false, 'a click that lands as the window opens');
    clock.now += ACTIVATION_DELAY_MS - 1;
    assert.equal(guard.armed(), false);
    assert.equal(guard.msLeft(), 1);
    clock.now += 1;
    assert.equal(guard.armed(), true);
  });

  it('waits again when the window comes back to the front', () => {
    const clock = { now: 0 };
    const guard = createActivationGuard(() => clock.now, 500);
    clock.now = 10_000;
    assert.equal(guard.armed(), true);
    guard.rearm();
    assert.equal(guard.armed(), false, 'refocused by the page: inert again');
    clock.now += 500;
    assert.equal(guard.armed(), true);
  });
});
