import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseMessage } from '../src/shared/messages.ts';

const NONCE = 'n'.repeat(43);

describe('parseMessage', () => {
  test('accepts each known message', () => {
    const ok = [
      { type: 'content-to-background:begin', endpoint: 'https://site.test/bsso' },
      { type: 'content-to-background:available', endpoint: 'https://site.test/bsso' },
      {
        type: 'content-to-background:assert',
        endpoint: 'https://site.test/bsso',
        challenge: { nonce: NONCE, expires_in: 300 },
      },
      {
        type: 'chooser-to-background:choose',
        requestId: 'r'.repeat(22),
        email: 'a@mail.test',
        remember: true,
      },
      {
        type: 'chooser-to-background:choose',
        requestId: 'r'.repeat(22),
        email: null,
        remember: false,
      },
      { type: 'options-to-background:discover', email: 'a@mail.test' },
    ];
    for (const m of ok) assert.deepEqual(parseMessage(m), m);
  });
  test('refuses unknown types, extra members and wrong shapes', () => {
    const bad: unknown[] = [
      null,
      'content-to-background:begin',
      [],
      { type: 'background-to-content:begin', endpoint: 'https://site.test/bsso' },
      { type: 'content-to-background:begin' },
      { type: 'content-to-background:begin', endpoint: 'https://site.test/bsso', extra: 1 },
      { type: 'content-to-background:begin', endpoint: 'x'.repeat(3000) },
      { type: 'content-to-background:available', endpoint: 'https://site.test/bsso', x: 1 },
      { type: 'content-to-background:assert', endpoint: 'https://site.test/bsso', challenge: 'x' },
      {
        type: 'content-to-background:assert',
        endpoint: 'https://site.test/bsso',
        challenge: { n: 'x'.repeat(5000) },
      },
      { type: 'chooser-to-background:choose', requestId: 'short', email: null, remember: true },
      {
        type: 'chooser-to-background:choose',
        requestId: 'r'.repeat(22),
        email: 'a@b@c',
        remember: true,
      },
      {
        type: 'chooser-to-background:choose',
        requestId: 'r'.repeat(22),
        email: null,
        remember: 'yes',
      },
      { type: 'options-to-background:discover', email: 1 },
    ];
    for (const m of bad) assert.equal(parseMessage(m), undefined, JSON.stringify(m));
  });
  test("a chosen address is read with the protocol's parseEmail, normalized", () => {
    const choose = {
      type: 'chooser-to-background:choose',
      requestId: 'r'.repeat(22),
      remember: false,
    };
    assert.deepEqual(parseMessage({ ...choose, email: 'A@Mail.Test' }), {
      ...choose,
      email: 'a@mail.test',
    });
    assert.equal(parseMessage({ ...choose, email: 'a@127.0.0.1' }), undefined);
  });
});
