import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acctUri,
  BSSO_VERSION,
  configUrlFromJrd,
  createJrd,
  createProviderConfig,
  parseEmail,
  parseProviderConfig,
  WEBFINGER_REL,
} from '../src/index.ts';
import { throwsCode } from './expect.ts';

const alice = parseEmail('alice@mail.example');
const configUrl = 'https://mail.example/.well-known/bsso-provider';

describe('createJrd', () => {
  it('names the configuration document with the BSSO relation', () => {
    assert.deepEqual(createJrd(alice, configUrl), {
      subject: 'acct:alice@mail.example',
      links: [{ rel: WEBFINGER_REL, href: configUrl }],
    });
    assert.equal(acctUri(alice), 'acct:alice@mail.example');
  });
});

describe('configUrlFromJrd', () => {
  it('reads the link of its own JRD', () => {
    assert.equal(configUrlFromJrd(createJrd(alice, configUrl), alice), configUrl);
  });

  it('ignores unknown members and other links, takes the first BSSO link', () => {
    const jrd = {
      subject: 'acct:Alice@Mail.Example',
      aliases: ['https://mail.example/~alice'],
      properties: { 'https://example/x': null },
      links: [
        { rel: 'http://webfinger.net/rel/avatar', href: 'https://mail.example/a.png' },
        { rel: WEBFINGER_REL, href: configUrl, type: 'application/json' },
        { rel: WEBFINGER_REL, href: 'https://other.example/.well-known/bsso-provider' },
      ],
    };
    assert.equal(configUrlFromJrd(jrd, alice), configUrl);
  });

  it('allows delegation to a provider on another host', () => {
    const delegated = 'https://idp.example/.well-known/bsso-provider';
    assert.equal(configUrlFromJrd(createJrd(alice, delegated), alice), delegated);
  });

  const bad: [string, unknown][] = [
    ['a non-object', 'hello'],
    ['null', null],
    ['no subject', { links: [{ rel: WEBFINGER_REL, href: configUrl }] }],
    ['another subject', createJrd(parseEmail('bob@mail.example'), configUrl)],
    [
      'a BSSO link without href',
      { subject: 'acct:alice@mail.example', links: [{ rel: WEBFINGER_REL }] },
    ],
    ['an http href', createJrd(alice, 'http://mail.example/.well-known/bsso-provider')],
    ['a relative href', createJrd(alice, '/.well-known/bsso-provider')],
    ['links that are not an array', { subject: 'acct:alice@mail.example', links: {} }],
  ];
  for (const [name, jrd] of bad) {
    it(`refuses ${name} (threat 6)`, () =>
      throwsCode(() => configUrlFromJrd(jrd, alice), 'discovery_failed'));
  }

  it('answers no_provider for a JRD about the address without the BSSO link (threat 46)', () => {
    throwsCode(
      () => configUrlFromJrd({ subject: 'acct:alice@mail.example' }, alice),
      'no_provider',
    );
    const other = { subject: 'acct:alice@mail.example', links: [{ rel: 'x', href: configUrl }] };
    throwsCode(() => configUrlFromJrd(other, alice), 'no_provider');
  });

  it('accepts an http localhost href only with the development override', () => {
    const local = createJrd(alice, 'http://localhost:4000/.well-known/bsso-provider');
    throwsCode(() => configUrlFromJrd(local, alice), 'discovery_failed');
    assert.equal(
      configUrlFromJrd(local, alice, { allowLocalhostHttp: true }),
      'http://localhost:4000/.well-known/bsso-provider',
    );
  });
});

describe('createProviderConfig and parseProviderConfig', () => {
  const paths = {
    assertion_endpoint: '/bsso/assertion',
    association_endpoint: '/bsso/association',
    verification_endpoint: '/bsso/verification',
    signin_endpoint: '/signin',
  };
  const config = createProviderConfig('https://mail.example', paths);

  it('builds absolute endpoints on the issuer', () => {
    assert.deepEqual(config, {
      bsso_version: BSSO_VERSION,
      issuer: 'https://mail.example',
      assertion_endpoint: 'https://mail.example/bsso/assertion',
      association_endpoint: 'https://mail.example/bsso/association',
      verification_endpoint: 'https://mail.example/bsso/verification',
      signin_endpoint: 'https://mail.example/signin',
    });
  });

  it('round-trips and drops unknown members', () => {
    assert.deepEqual(parseProviderConfig({ ...config, future_member: 1 }, configUrl), config);
  });

  it('refuses a malformed document', () => {
    for (const doc of [
      null,
      [],
      'x',
      {},
      { ...config, bsso_version: 2 },
      { ...config, issuer: 1 },
    ]) {
      throwsCode(() => parseProviderConfig(doc, configUrl), 'invalid_configuration');
    }
    const { signin_endpoint: _, ...missing } = config;
    throwsCode(() => parseProviderConfig(missing, configUrl), 'invalid_configuration');
  });

  it('requires the issuer to be a bare origin', () => {
    for (const issuer of [
      'https://mail.example/',
      'https://mail.example/idp',
      'https://MAIL.example',
    ]) {
      throwsCode(
        () => parseProviderConfig({ ...config, issuer }, configUrl),
        'invalid_configuration',
      );
    }
  });

  it('requires the issuer to be the origin the document came from', () => {
    throwsCode(
      () => parseProviderConfig(config, 'https://evil.example/.well-known/bsso-provider'),
      'origin_mismatch',
    );
  });

  it('requires every endpoint on the issuer origin', () => {
    for (const name of Object.keys(paths) as (keyof typeof paths)[]) {
      const doc = { ...config, [name]: 'https://evil.example/x' };
      throwsCode(() => parseProviderConfig(doc, configUrl), 'origin_mismatch');
    }
  });

  it('refuses http endpoints and an http issuer', () => {
    throwsCode(
      () =>
        parseProviderConfig({ ...config, assertion_endpoint: 'http://mail.example/a' }, configUrl),
      'insecure_url',
    );
    throwsCode(
      () => parseProviderConfig({ ...config, issuer: 'http://mail.example' }, configUrl),
      'insecure_url',
    );
  });

  it('accepts a localhost http provider with the development override only', () => {
    const local = createProviderConfig('http://localhost:4000', paths);
    const url = 'http://localhost:4000/.well-known/bsso-provider';
    throwsCode(() => parseProviderConfig(local, url), 'insecure_url');
    assert.deepEqual(parseProviderConfig(local, url, { allowLocalhostHttp: true }), local);
  });
});
