import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  challengeUrl,
  createNonce,
  limits,
  parseChallengeAnswer,
  TOKEN_PATTERN,
} from '../src/index.ts';
import { throwsCode } from './expect.ts';

const nonce = 'n'.repeat(43);
const handle = 'h'.repeat(22);

describe('createNonce', () => {
  it('makes 256-bit base64url tokens that differ', () => {
    const a = createNonce();
    assert.match(a, TOKEN_PATTERN);
    assert.equal(Buffer.from(a, 'base64url').byteLength, limits.nonceBytes);
    assert.ok(limits.nonceBytes * 8 >= 128);
    assert.notEqual(a, createNonce());
  });
});

describe('challengeUrl', () => {
  it('adds the challenge query to the endpoint, keeping its own query', () => {
    assert.equal(
      challengeUrl('https://site.example/bsso?x=1', 'mail.example'),
      'https://site.example/bsso?x=1&bsso=challenge&domain=mail.example',
    );
    assert.equal(
      challengeUrl(new URL('https://site.example/bsso'), 'mail.example'),
      'https://site.example/bsso?bsso=challenge&domain=mail.example',
    );
  });
});

describe('parseChallengeAnswer', () => {
  it('reads nonce, handle and expires_in, dropping unknown members', () => {
    assert.deepEqual(parseChallengeAnswer({ nonce, handle, expires_in: 300, extra: true }), {
      nonce,
      handle,
      expires_in: 300,
    });
  });

  it('reads an answer without a handle', () => {
    assert.deepEqual(parseChallengeAnswer({ nonce, expires_in: 300 }), { nonce, expires_in: 300 });
  });

  const bad: [string, unknown][] = [
    ['null', null],
    ['no nonce', { expires_in: 300 }],
    ['a short nonce', { nonce: 'abc', expires_in: 300 }],
    ['a nonce with other characters', { nonce: `${nonce}+/`, expires_in: 300 }],
    ['a bad handle', { nonce, handle: 'a b', expires_in: 300 }],
    ['no expires_in', { nonce }],
    ['a zero expires_in', { nonce, expires_in: 0 }],
    ['a fractional expires_in', { nonce, expires_in: 1.5 }],
    ['a string expires_in', { nonce, expires_in: '300' }],
  ];
  for (const [name, json] of bad) {
    it(`refuses ${name}`, () => throwsCode(() => parseChallengeAnswer(json), 'invalid_request'));
  }
});
