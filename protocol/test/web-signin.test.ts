// The web sign-in request (protocol-spec.md#web-flow): built and parsed strictly; the start
// page URL; the optional web_endpoint of the configuration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createProviderConfig,
  parseProviderConfig,
  parseWebAudience,
  parseWebSignInRequest,
  startPageUrl,
  type WebSignInRequest,
  webSignInUrl,
} from '../src/index.ts';
import { throwsCode } from './expect.ts';

const nonce = 'n'.repeat(43);
const handle = 'h'.repeat(22);
const request: WebSignInRequest = {
  audience: 'https://site.example/bsso',
  nonce,
  login_hint: 'alice@mail.example',
  handle,
  return_to: '/account?tab=1',
};
const web = 'https://mail.example/bsso/web';

function query(url: string): URLSearchParams {
  return new URL(url).searchParams;
}

function withParam(name: string, value: string | undefined): URLSearchParams {
  const q = query(webSignInUrl(web, request));
  if (value === undefined) q.delete(name);
  else q.set(name, value);
  return q;
}

describe('webSignInUrl and parseWebSignInRequest', () => {
  it('round-trips every parameter', () => {
    assert.deepEqual(parseWebSignInRequest(query(webSignInUrl(web, request))), request);
    const { handle: _h, return_to: _r, ...minimal } = request;
    assert.deepEqual(parseWebSignInRequest(query(webSignInUrl(web, minimal))), minimal);
  });

  it('normalizes the address', () => {
    const parsed = parseWebSignInRequest(withParam('login_hint', 'Alice@Mail.Example'));
    assert.equal(parsed.login_hint, 'alice@mail.example');
  });

  it('refuses unknown, repeated and missing parameters (invalid_request)', () => {
    const extra = withParam('assertion', 'x');
    throwsCode(() => parseWebSignInRequest(extra), 'invalid_request');
    const twice = query(webSignInUrl(web, request));
    twice.append('nonce', nonce);
    throwsCode(() => parseWebSignInRequest(twice), 'invalid_request');
    for (const name of ['audience', 'nonce', 'login_hint']) {
      throwsCode(() => parseWebSignInRequest(withParam(name, undefined)), 'invalid_request');
      throwsCode(() => parseWebSignInRequest(withParam(name, '')), 'invalid_request');
    }
  });

  it('refuses a nonce or handle that is not a token', () => {
    throwsCode(() => parseWebSignInRequest(withParam('nonce', 'short')), 'invalid_request');
    throwsCode(
      () => parseWebSignInRequest(withParam('handle', 'a b'.repeat(8))),
      'invalid_request',
    );
  });

  it('refuses a malformed address (invalid_email)', () => {
    for (const bad of [
      'a@b@c.example',
      'alice@127.0.0.1',
      'al ice@mail.example',
      'x'.repeat(300),
    ]) {
      throwsCode(() => parseWebSignInRequest(withParam('login_hint', bad)), 'invalid_email');
    }
  });

  it('refuses an audience that is not https, has a query or fragment, or is not serialized (threat 48)', () => {
    for (const bad of [
      'http://site.example/bsso',
      'https://site.example/bsso?x=1',
      'https://site.example/bsso?',
      'https://site.example/bsso#f',
      'https://user@site.example/bsso',
      'HTTPS://SITE.EXAMPLE/bsso',
      'https://site.example:443/bsso',
      'javascript:alert(1)',
      '/bsso',
    ]) {
      throwsCode(() => parseWebSignInRequest(withParam('audience', bad)), 'insecure_url');
    }
  });

  it('allows http only on localhost under the development override', () => {
    const local = withParam('audience', 'http://localhost:8080/bsso');
    throwsCode(() => parseWebSignInRequest(local), 'insecure_url');
    assert.equal(
      parseWebSignInRequest(local, { allowLocalhostHttp: true }).audience,
      'http://localhost:8080/bsso',
    );
    throwsCode(
      () => parseWebAudience('http://site.example/bsso', { allowLocalhostHttp: true }),
      'insecure_url',
    );
  });

  it('refuses a return path that could leave the site (threats 31, 45)', () => {
    for (const bad of [
      'https://evil.example/',
      '//evil.example',
      '/\\evil',
      '/.//evil.example/x',
    ]) {
      throwsCode(() => parseWebSignInRequest(withParam('return_to', bad)), 'invalid_request');
    }
  });
});

describe('startPageUrl', () => {
  it('adds bsso=start to the endpoint', () => {
    assert.equal(startPageUrl('https://site.example/bsso'), 'https://site.example/bsso?bsso=start');
  });
});

describe('web_endpoint in the configuration', () => {
  const paths = {
    assertion_endpoint: '/bsso/assertion',
    association_endpoint: '/bsso/association',
    verification_endpoint: '/bsso/verify',
    signin_endpoint: '/signin',
  };
  const configUrl = 'https://mail.example/.well-known/bsso-provider';

  it('is optional, and kept when present', () => {
    const without = createProviderConfig('https://mail.example', paths);
    assert.equal(parseProviderConfig(without, configUrl).web_endpoint, undefined);
    const withWeb = createProviderConfig('https://mail.example', {
      ...paths,
      web_endpoint: '/bsso/web',
    });
    assert.equal(parseProviderConfig(withWeb, configUrl).web_endpoint, web);
  });

  it('must be a secure URL on the issuer origin', () => {
    const base = createProviderConfig('https://mail.example', paths);
    throwsCode(
      () => parseProviderConfig({ ...base, web_endpoint: 'https://evil.example/web' }, configUrl),
      'origin_mismatch',
    );
    throwsCode(
      () => parseProviderConfig({ ...base, web_endpoint: 'http://mail.example/web' }, configUrl),
      'insecure_url',
    );
    throwsCode(
      () => parseProviderConfig({ ...base, web_endpoint: 3 }, configUrl),
      'invalid_configuration',
    );
  });
});
