// Assertion helpers shared by the protocol tests: errors are matched by code, never by text.
import assert from 'node:assert/strict';
import { BssoError, type ErrorCode } from '../src/index.ts';

/** A matcher for assert.throws / assert.rejects that requires a BssoError with `code`. */
export function withCode(code: ErrorCode): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof BssoError, `expected a BssoError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

export function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, withCode(code));
}

export async function rejectsCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, withCode(code));
}
