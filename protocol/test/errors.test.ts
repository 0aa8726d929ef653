import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BssoError,
  type ErrorCode,
  errorCodes,
  isErrorCode,
  toErrorResponse,
} from '../src/index.ts';

const codes = Object.keys(errorCodes) as ErrorCode[];

describe('errorCodes', () => {
  it('gives every code a 4xx or 5xx status and a description', () => {
    for (const code of codes) {
      const { status, description } = errorCodes[code];
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, code);
      assert.ok(description.length > 0, code);
    }
  });

  it('uses snake_case codes', () => {
    for (const code of codes) assert.match(code, /^[a-z]+(_[a-z]+)*$/);
  });

  it('recognizes its own codes only', () => {
    assert.equal(isErrorCode('invalid_nonce'), true);
    for (const value of ['toString', '__proto__', 'hasOwnProperty', 'INVALID_NONCE', 1, null]) {
      assert.equal(isErrorCode(value), false);
    }
  });
});

describe('BssoError', () => {
  it('carries code and status, and the default description', () => {
    const err = new BssoError('invalid_nonce');
    assert.equal(err.code, 'invalid_nonce');
    assert.equal(err.status, 400);
    assert.equal(err.name, 'BssoError');
    assert.equal(err.message, errorCodes.invalid_nonce.description);
    assert.ok(err instanceof Error);
  });

  it('keeps its cause', () => {
    const cause = new Error('inner');
    assert.equal(new BssoError('provider_error', 'x', { cause }).cause, cause);
  });
});

describe('toErrorResponse', () => {
  for (const code of codes) {
    it(`maps ${code} to its status`, () => {
      const { status, body } = toErrorResponse(new BssoError(code));
      assert.equal(status, errorCodes[code].status);
      assert.equal(body.error, code);
      assert.equal(typeof body.error_description, 'string');
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    });
  }

  it('hides the message of unexpected errors', () => {
    for (const thrown of [
      new Error('SQLITE_CORRUPT at /var/lib/secret.db'),
      new TypeError('Cannot read properties of undefined'),
      'a string',
      undefined,
      { code: 'invalid_nonce', message: 'looks like a BssoError' },
    ]) {
      const { status, body } = toErrorResponse(thrown);
      assert.equal(status, 500);
      assert.equal(body.error, 'server_error');
      assert.equal(body.error_description, errorCodes.server_error.description);
    }
  });
});
