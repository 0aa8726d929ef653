import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JRD_CONTENT_TYPE, parseProviderConfig, WEBFINGER_REL } from '@bsso/protocol';
import { errorCode, ISSUER, type Running, removeDir, startProvider } from './helpers.ts';

describe('discovery', () => {
  let p: Running;
  before(async () => {
    p = await startProvider();
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  const webfinger = (query: string) => fetch(`${p.base}/.well-known/webfinger?${query}`);

  it('answers for any address of a served domain, with CORS *', async () => {
    for (const address of ['alice@mail.test', 'Nobody.Here@MAIL.test']) {
      const res = await webfinger(`resource=${encodeURIComponent(`acct:${address}`)}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.equal(res.headers.get('content-type')?.split(';')[0], JRD_CONTENT_TYPE);
      assert.deepEqual(await res.json(), {
        subject: `acct:${address.toLowerCase()}`,
        links: [{ rel: WEBFINGER_REL, href: `${ISSUER}/.well-known/bsso-provider` }],
      });
    }
  });

  it('answers 404 unknown_domain for other domains', async () => {
    const res = await webfinger('resource=acct:alice@other.test');
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(await errorCode(res), 'unknown_domain');
  });

  it('answers 400 invalid_request for a missing or malformed resource', async () => {
    for (const query of [
      '',
      'resource=',
      'resource=alice@mail.test',
      'resource=mailto:alice@mail.test',
      `resource=${encodeURIComponent('acct:a@b@mail.test')}`,
      `resource=${encodeURIComponent('acct:alice@mail.test\r\nX: y')}`,
      'resource=acct:alice@127.0.0.1',
      'resource=acct:a@mail.test&resource=acct:b@mail.test',
    ]) {
      const res = await webfinger(query);
      assert.equal(res.status, 400, query);
      assert.equal(await errorCode(res), 'invalid_request', query);
    }
  });

  it('honours the rel filter', async () => {
    const other = await webfinger(
      'resource=acct:alice@mail.test&rel=http://webfinger.net/rel/avatar',
    );
    assert.deepEqual(((await other.json()) as { links: unknown[] }).links, []);
    const same = await webfinger(
      `resource=acct:alice@mail.test&rel=${encodeURIComponent(WEBFINGER_REL)}&rel=x`,
    );
    assert.equal(((await same.json()) as { links: unknown[] }).links.length, 1);
  });

  it('serves a configuration document the protocol core accepts', async () => {
    const url = `${ISSUER}/.well-known/bsso-provider`;
    const res = await fetch(`${p.base}/.well-known/bsso-provider`);
    assert.equal(res.status, 200);
    const config = parseProviderConfig(await res.json(), url);
    assert.deepEqual(config, {
      bsso_version: 1,
      issuer: ISSUER,
      assertion_endpoint: `${ISSUER}/bsso/assertion`,
      association_endpoint: `${ISSUER}/bsso/association`,
      verification_endpoint: `${ISSUER}/bsso/verify`,
      signin_endpoint: `${ISSUER}/signin`,
      web_endpoint: `${ISSUER}/bsso/web`,
    });
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await fetch(`${p.base}/bsso/nothing`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'not_found');
  });
});
