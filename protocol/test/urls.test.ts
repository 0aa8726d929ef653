import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isLocalhostName,
  parseEndpointForPage,
  parseSecureUrl,
  requireSameOrigin,
  safeReturnPath,
} from '../src/index.ts';
import { throwsCode } from './expect.ts';

describe('parseSecureUrl', () => {
  it('accepts an https URL', () => {
    assert.equal(
      parseSecureUrl('https://site.example/bsso?x=1').href,
      'https://site.example/bsso?x=1',
    );
  });

  const bad: [string, unknown][] = [
    ['a non-string', 1],
    ['a relative URL', '/bsso'],
    ['plain http', 'http://site.example/bsso'],
    ['another scheme', 'javascript:alert(1)'],
    ['a data URL', 'data:text/plain,hi'],
    ['credentials', 'https://user:pw@site.example/bsso'],
    ['a fragment', 'https://site.example/bsso#x'],
    ['an over-long URL', `https://site.example/${'a'.repeat(2048)}`],
  ];
  for (const [name, input] of bad) {
    it(`refuses ${name}`, () => throwsCode(() => parseSecureUrl(input), 'insecure_url'));
  }

  it('refuses http on localhost unless the development override is on', () => {
    throwsCode(() => parseSecureUrl('http://localhost:3000/bsso'), 'insecure_url');
    const policy = { allowLocalhostHttp: true };
    assert.equal(parseSecureUrl('http://localhost:3000/bsso', policy).port, '3000');
    assert.equal(parseSecureUrl('http://site.localhost/bsso', policy).hostname, 'site.localhost');
  });

  it('keeps refusing http on other hosts with the override on', () => {
    const policy = { allowLocalhostHttp: true };
    throwsCode(() => parseSecureUrl('http://127.0.0.1/bsso', policy), 'insecure_url');
    throwsCode(() => parseSecureUrl('http://localhost.example/bsso', policy), 'insecure_url');
  });
});

describe('isLocalhostName', () => {
  it('matches localhost and *.localhost only', () => {
    assert.equal(isLocalhostName('localhost'), true);
    assert.equal(isLocalhostName('a.localhost'), true);
    assert.equal(isLocalhostName('localhost.example'), false);
    assert.equal(isLocalhostName('notlocalhost'), false);
  });
});

describe('requireSameOrigin', () => {
  it('passes the same origin and refuses another port, host or scheme', () => {
    requireSameOrigin(new URL('https://site.example/a'), 'https://site.example');
    for (const other of [
      'https://site.example:8443/a',
      'https://evil.example/a',
      'https://sub.site.example/a',
      'http://site.example/a',
    ]) {
      throwsCode(
        () => requireSameOrigin(new URL(other), 'https://site.example'),
        'origin_mismatch',
      );
    }
  });
});

describe('parseEndpointForPage', () => {
  it('accepts a same-origin https endpoint', () => {
    const url = parseEndpointForPage('https://site.example/bsso', 'https://site.example/login');
    assert.equal(url.href, 'https://site.example/bsso');
  });

  it('refuses an endpoint on another origin (threat 1)', () => {
    throwsCode(
      () => parseEndpointForPage('https://evil.example/bsso', 'https://site.example/'),
      'origin_mismatch',
    );
  });

  it('refuses an http page or endpoint that is not localhost (threat 2)', () => {
    throwsCode(
      () => parseEndpointForPage('http://site.example/bsso', 'http://site.example/'),
      'insecure_url',
    );
    throwsCode(
      () => parseEndpointForPage('https://site.example/bsso', 'http://site.example/'),
      'insecure_url',
    );
  });

  it('allows http on localhost with the development override', () => {
    const policy = { allowLocalhostHttp: true };
    const url = parseEndpointForPage(
      'http://localhost:8080/bsso',
      'http://localhost:8080/',
      policy,
    );
    assert.equal(url.href, 'http://localhost:8080/bsso');
  });
});

describe('safeReturnPath', () => {
  it('keeps a same-origin path and query, drops the fragment', () => {
    assert.equal(safeReturnPath('/account?tab=1#top'), '/account?tab=1');
    assert.equal(safeReturnPath('/a/../b'), '/b');
  });

  it('keeps encoded slashes, backslashes and tabs encoded: they stay one segment', () => {
    assert.equal(safeReturnPath('/%2f%2fevil.example'), '/%2f%2fevil.example');
    assert.equal(safeReturnPath('/%5c%5cevil.example'), '/%5c%5cevil.example');
    assert.equal(safeReturnPath('/%09/evil.example'), '/%09/evil.example');
    assert.equal(safeReturnPath('/a/./b/%2e%2e/c'), '/a/c');
  });

  for (const input of [
    undefined,
    42,
    '',
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example',
    '\\\\evil.example',
    '/\tevil',
    '/a\r\nLocation: https://evil.example',
    'javascript:alert(1)',
    'account',
    `/${'a'.repeat(1024)}`,
    // Paths whose normalised form is //host (threat 45).
    '/.//evil.example/x',
    '/a/..//x',
    '/%2e//x',
    '/%2E//evil.example',
    '/%2e%2e//evil.example',
    '/a/%2e%2e//evil.example',
    '/././/evil.example',
    '/.%2e//evil.example',
    '/%2e/%2e//evil.example',
    '/..//evil.example',
  ]) {
    it(`falls back to / for ${JSON.stringify(input)?.slice(0, 40)}`, () => {
      assert.equal(safeReturnPath(input), '/');
    });
  }
});
