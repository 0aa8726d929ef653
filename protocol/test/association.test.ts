import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ASSOCIATION_ALG,
  createAssociationSecret,
  encodeAssociationAnswer,
  limits,
  parseAssociationAnswer,
  parseAssociationRequest,
  TOKEN_PATTERN,
} from '../src/index.ts';
import { throwsCode } from './expect.ts';

describe('parseAssociationRequest', () => {
  it('accepts a bare https origin', () => {
    assert.deepEqual(parseAssociationRequest({ site: 'https://site.example' }), {
      site: 'https://site.example',
    });
    assert.deepEqual(parseAssociationRequest({ site: 'https://site.example:8443' }), {
      site: 'https://site.example:8443',
    });
  });

  it('refuses unknown members (threat 15)', () => {
    throwsCode(
      () => parseAssociationRequest({ site: 'https://site.example', key: 'x' }),
      'invalid_request',
    );
  });

  it('refuses plain http outside development (threat 15)', () => {
    throwsCode(() => parseAssociationRequest({ site: 'http://site.example' }), 'insecure_url');
    throwsCode(() => parseAssociationRequest({ site: 'http://localhost:3000' }), 'insecure_url');
    assert.deepEqual(
      parseAssociationRequest({ site: 'http://localhost:3000' }, { allowLocalhostHttp: true }),
      { site: 'http://localhost:3000' },
    );
  });

  it('refuses anything but a bare origin', () => {
    for (const site of [
      'https://site.example/',
      'https://site.example/bsso',
      'https://site.example?x=1',
      'https://SITE.example',
      'https://site.example:443',
    ]) {
      throwsCode(() => parseAssociationRequest({ site }), 'invalid_request');
    }
  });

  it('refuses a missing or non-string site', () => {
    throwsCode(() => parseAssociationRequest({}), 'invalid_request');
    throwsCode(() => parseAssociationRequest({ site: 1 }), 'invalid_request');
    throwsCode(() => parseAssociationRequest(null), 'invalid_request');
  });
});

describe('association answers', () => {
  it('creates a 256-bit secret and a token handle that round-trip', () => {
    const { handle, secret } = createAssociationSecret();
    assert.match(handle, TOKEN_PATTERN);
    assert.equal(secret.byteLength, 32);
    const answer = encodeAssociationAnswer(handle, secret, 3600);
    assert.equal(answer.alg, ASSOCIATION_ALG);
    const parsed = parseAssociationAnswer(JSON.parse(JSON.stringify(answer)));
    assert.equal(parsed.handle, handle);
    assert.deepEqual(Buffer.from(parsed.secret), Buffer.from(secret));
    assert.equal(parsed.expiresIn, 3600);
    assert.notEqual(createAssociationSecret().handle, handle);
  });

  const good = encodeAssociationAnswer('h'.repeat(22), new Uint8Array(32).fill(7), 3600);

  it('accepts the lifetime limits exactly and refuses one second beyond', () => {
    const min = limits.minAssociationLifetimeSeconds;
    const max = limits.maxAssociationLifetimeSeconds;
    assert.equal(parseAssociationAnswer({ ...good, expires_in: min }).expiresIn, min);
    assert.equal(parseAssociationAnswer({ ...good, expires_in: max }).expiresIn, max);
    throwsCode(() => parseAssociationAnswer({ ...good, expires_in: min - 1 }), 'provider_error');
    throwsCode(() => parseAssociationAnswer({ ...good, expires_in: max + 1 }), 'provider_error');
  });

  const bad: [string, unknown][] = [
    ['null', null],
    ['another alg', { ...good, alg: 'HS512' }],
    ['alg none', { ...good, alg: 'none' }],
    ['a short key', { ...good, key: Buffer.alloc(16).toString('base64url') }],
    ['a long key', { ...good, key: Buffer.alloc(64).toString('base64url') }],
    ['a padded key', { ...good, key: `${good.key}=` }],
    ['a bad handle', { ...good, handle: 'x y' }],
    ['a fractional expires_in', { ...good, expires_in: 3600.5 }],
    ['no handle', { key: good.key, alg: good.alg, expires_in: 3600 }],
  ];
  for (const [name, json] of bad) {
    it(`refuses ${name}`, () => throwsCode(() => parseAssociationAnswer(json), 'provider_error'));
  }
});
