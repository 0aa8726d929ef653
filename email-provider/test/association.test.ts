import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeAssertion,
  limits,
  parseAssociationAnswer,
  verifyAssociationSignature,
} from '@bsso/protocol';
import {
  AUDIENCE,
  Browser,
  errorCode,
  nonce,
  PASSWORD,
  postJson,
  type Running,
  removeDir,
  startProvider,
} from './helpers.ts';

const ALICE = 'alice@mail.test';

describe('association endpoint', () => {
  let p: Running;
  before(async () => {
    p = await startProvider();
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  it('answers a 256-bit HS256 key bound to the site, not cached', async () => {
    const res = await postJson(p.base, '/bsso/association', { site: 'https://site.test' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.alg, 'HS256');
    assert.equal(body.expires_in, 3600);
    const answer = parseAssociationAnswer(body);
    assert.equal(answer.secret.byteLength, limits.associationKeyBytes);
  });

  it('refuses http sites, unknown members, non-origins and bad bodies', async () => {
    const cases: [unknown, string][] = [
      [{ site: 'http://site.test' }, 'insecure_url'],
      [{ site: 'https://site.test', extra: true }, 'invalid_request'],
      [{ site: 'https://site.test/path' }, 'invalid_request'],
      [{ site: 'https://site.test/' }, 'invalid_request'],
      [{ site: 42 }, 'invalid_request'],
      [{}, 'invalid_request'],
      ['{"site":', 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const res = await postJson(p.base, '/bsso/association', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(await errorCode(res), code, JSON.stringify(body));
    }
    const text = await fetch(`${p.base}/bsso/association`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"site":"https://site.test"}',
    });
    assert.equal(text.status, 415);
    assert.equal(await errorCode(text), 'unsupported_media_type');
  });

  it('accepts http://localhost only with the development override', async () => {
    const dev = await startProvider({ developmentAllowLocalhostHttp: true });
    try {
      const ok = await postJson(dev.base, '/bsso/association', { site: 'http://localhost:8080' });
      assert.equal(ok.status, 200);
      const other = await postJson(dev.base, '/bsso/association', { site: 'http://site.test' });
      assert.equal(await errorCode(other), 'insecure_url');
    } finally {
      await dev.stop();
      await removeDir(dev.dataDir);
    }
    const prod = await postJson(p.base, '/bsso/association', { site: 'http://localhost:8080' });
    assert.equal(await errorCode(prod), 'insecure_url');
  });

  it('invalidates a handle once; unknown handles are not invalidated', async () => {
    const res = await postJson(p.base, '/bsso/association', { site: 'https://site.test' });
    const { handle } = parseAssociationAnswer(await res.json());
    assert.equal(await p.provider.associations.invalidate(handle), true);
    assert.equal(await p.provider.associations.invalidate(handle), false);
    assert.equal(await p.provider.associations.invalidate('x'.repeat(22)), false);
  });

  it('limits new associations per client address', async () => {
    const limited = await startProvider({ associationsPerIpPerMinute: 2 });
    try {
      const ask = () => postJson(limited.base, '/bsso/association', { site: 'https://site.test' });
      assert.equal((await ask()).status, 200);
      assert.equal((await ask()).status, 200);
      const third = await ask();
      assert.equal(third.status, 429);
      assert.equal(await errorCode(third), 'rate_limited');
      limited.clock.ms += 60_001;
      assert.equal((await ask()).status, 200);
    } finally {
      await limited.stop();
      await removeDir(limited.dataDir);
    }
  });

  it('sweeps expired associations', async () => {
    const res = await postJson(p.base, '/bsso/association', { site: 'https://site.test' });
    const { handle } = parseAssociationAnswer(await res.json());
    p.clock.ms += 3600 * 1000 - 1;
    assert.equal(await p.provider.associations.sweep(), 0);
    p.clock.ms += 1;
    assert.ok((await p.provider.associations.sweep()) >= 1);
    assert.equal(await p.provider.associations.invalidate(handle), false, 'gone');
  });
});

describe('associations survive a restart', () => {
  it('signs with the same association key after createProvider runs again', async () => {
    const first = await startProvider({ associationLifetimeSeconds: 7200 });
    const res = await postJson(first.base, '/bsso/association', { site: 'https://site.test' });
    const assoc = parseAssociationAnswer(await res.json());
    assert.equal(assoc.expiresIn, 7200);
    await first.provider.accounts.create(ALICE, PASSWORD);
    await first.stop();

    const second = await startProvider({ dataDir: first.dataDir, clock: first.clock });
    try {
      const b = new Browser(second.base);
      assert.equal((await b.signIn(ALICE, PASSWORD)).status, 303);
      const answer = await b.askAssertion({
        email: ALICE,
        audience: AUDIENCE,
        nonce: nonce(),
        handle: assoc.handle,
      });
      const { assertion } = (await answer.json()) as { assertion: string };
      assert.equal(decodeAssertion(assertion).header.alg, 'HS256');
      await verifyAssociationSignature(assertion, assoc.secret);
    } finally {
      await second.stop();
      await removeDir(first.dataDir);
    }
  });
});
