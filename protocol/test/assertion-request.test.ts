import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limits, parseAssertionAnswer, parseAssertionRequest } from '../src/index.ts';
import { throwsCode } from './expect.ts';

const nonce = 'n'.repeat(43);
const handle = 'h'.repeat(22);
const request = {
  email: 'Alice@Mail.Example',
  audience: 'https://site.example/bsso',
  nonce,
  handle,
};
const issuer = 'https://mail.example';

describe('parseAssertionRequest', () => {
  it('normalizes the email and the audience', () => {
    assert.deepEqual(parseAssertionRequest(request), {
      email: 'alice@mail.example',
      audience: 'https://site.example/bsso',
      nonce,
      handle,
    });
  });

  it('accepts a request without a handle', () => {
    const { handle: _, ...noHandle } = request;
    assert.equal(parseAssertionRequest(noHandle).handle, undefined);
  });

  it('refuses unknown members (strict)', () => {
    throwsCode(() => parseAssertionRequest({ ...request, sub: 'x' }), 'invalid_request');
  });

  for (const name of ['email', 'audience', 'nonce'] as const) {
    it(`refuses a request without ${name}`, () => {
      const { [name]: _, ...rest } = request;
      throwsCode(() => parseAssertionRequest(rest), 'invalid_request');
    });
  }

  it('refuses a malformed nonce or handle', () => {
    throwsCode(() => parseAssertionRequest({ ...request, nonce: 'short' }), 'invalid_request');
    throwsCode(() => parseAssertionRequest({ ...request, handle: 'a.b' }), 'invalid_request');
  });

  it('refuses a bad email and an insecure audience', () => {
    throwsCode(() => parseAssertionRequest({ ...request, email: 'a@b@c' }), 'invalid_email');
    throwsCode(
      () => parseAssertionRequest({ ...request, audience: 'http://site.example/bsso' }),
      'insecure_url',
    );
  });

  it('refuses a non-object', () => {
    throwsCode(() => parseAssertionRequest('email=x'), 'invalid_request');
  });
});

describe('parseAssertionAnswer', () => {
  it('reads an assertion', () => {
    assert.deepEqual(parseAssertionAnswer(200, { assertion: 'a.b.c' }, issuer), {
      kind: 'assertion',
      assertion: 'a.b.c',
    });
  });

  it('reads login_required with a sign-in URL on the provider origin', () => {
    const body = {
      error: 'login_required',
      error_description: 'Sign in first.',
      signin_url: 'https://mail.example/signin?login_hint=alice%40mail.example&popup=1',
    };
    assert.deepEqual(parseAssertionAnswer(401, body, issuer), {
      kind: 'login_required',
      signinUrl: body.signin_url,
    });
  });

  it('refuses a sign-in URL on another origin or over http', () => {
    const body = { error: 'login_required', error_description: 'x' };
    throwsCode(
      () =>
        parseAssertionAnswer(401, { ...body, signin_url: 'https://evil.example/signin' }, issuer),
      'origin_mismatch',
    );
    throwsCode(
      () =>
        parseAssertionAnswer(401, { ...body, signin_url: 'http://mail.example/signin' }, issuer),
      'insecure_url',
    );
  });

  it('reads wrong_account', () => {
    const body = { error: 'wrong_account', error_description: 'x' };
    assert.deepEqual(parseAssertionAnswer(403, body, issuer), { kind: 'wrong_account' });
  });

  const unexpected: [string, number, unknown][] = [
    ['200 without an assertion', 200, {}],
    [
      '200 with an over-long assertion',
      200,
      { assertion: 'a'.repeat(limits.maxAssertionLength + 1) },
    ],
    ['401 without a sign-in URL', 401, { error: 'login_required' }],
    ['401 with another error', 401, { error: 'wrong_account', signin_url: `${issuer}/signin` }],
    ['403 origin_not_allowed', 403, { error: 'origin_not_allowed' }],
    ['500', 500, { error: 'server_error' }],
    ['302', 302, null],
  ];
  for (const [name, status, body] of unexpected) {
    it(`turns ${name} into provider_error`, () =>
      throwsCode(() => parseAssertionAnswer(status, body, issuer), 'provider_error'));
  }
});
