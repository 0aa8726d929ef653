import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AssertionClaims,
  checkVerificationAnswer,
  limits,
  parseVerificationRequest,
} from '../src/index.ts';
import { throwsCode } from './expect.ts';

const claims: AssertionClaims = {
  iss: 'https://mail.example',
  sub: 'alice@mail.example',
  aud: 'https://site.example/bsso',
  nonce: 'n'.repeat(43),
  iat: 1767225600,
  exp: 1767225720,
  jti: 'j'.repeat(22),
};

describe('parseVerificationRequest', () => {
  it('reads the assertion', () => {
    assert.deepEqual(parseVerificationRequest({ assertion: 'a.b.c' }), { assertion: 'a.b.c' });
  });

  const bad: [string, unknown][] = [
    ['null', null],
    ['no assertion', {}],
    ['a non-string assertion', { assertion: 1 }],
    ['unknown members', { assertion: 'a.b.c', handle: 'x' }],
    ['an over-long assertion', { assertion: 'a'.repeat(limits.maxAssertionLength + 1) }],
  ];
  for (const [name, json] of bad) {
    it(`refuses ${name}`, () =>
      throwsCode(() => parseVerificationRequest(json), 'invalid_request'));
  }
});

describe('checkVerificationAnswer', () => {
  it('accepts an answer confirming exactly the claims read', () => {
    checkVerificationAnswer({ valid: true, claims }, claims);
    checkVerificationAnswer({ valid: true, claims: { ...claims, extra: 1 }, more: 2 }, claims);
  });

  for (const name of ['iss', 'sub', 'aud', 'nonce', 'jti'] as const) {
    it(`refuses an answer with another ${name}`, () => {
      const answer = { valid: true, claims: { ...claims, [name]: `${claims[name]}x` } };
      throwsCode(() => checkVerificationAnswer(answer, claims), 'provider_error');
    });
  }

  for (const name of ['iat', 'exp'] as const) {
    it(`refuses an answer with another ${name}`, () => {
      const answer = { valid: true, claims: { ...claims, [name]: claims[name] + 1 } };
      throwsCode(() => checkVerificationAnswer(answer, claims), 'provider_error');
    });
  }

  const malformed: [string, unknown][] = [
    ['null', null],
    ['valid false', { valid: false, claims }],
    ['valid as a string', { valid: 'true', claims }],
    ['no claims', { valid: true }],
    ['an error object', { error: 'invalid_assertion', error_description: 'x' }],
    ['claims missing jti', { valid: true, claims: { ...claims, jti: undefined } }],
    ['iat as a string', { valid: true, claims: { ...claims, iat: String(claims.iat) } }],
  ];
  for (const [name, json] of malformed) {
    it(`refuses ${name}`, () =>
      throwsCode(() => checkVerificationAnswer(json, claims), 'provider_error'));
  }
});
