// The IMAP account back-end against a real Dovecot on loopback (implicit TLS and STARTTLS,
// throwaway certificate): the right mail password signs in; a wrong one, an unknown user
// and an address the provider does not serve get the one generic failure and no session;
// a server that does not answer or is stopped gives "try again later", never a 500.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Dovecot,
  dovecotMissing,
  hasOpenssl,
  makeTestPki,
  skipUnlessCi,
  startDovecot,
  type TcpProxy,
  tcpProxy,
  waitUntil,
} from '@bsso/protocol/testing';
import type { ImapBackendOptions } from '../src/index.ts';
import { assertRefused, assertSignedIn, assertUnavailable } from './backend-outcomes.ts';
import { Browser, type Running, removeDir, startProvider, tempDir } from './helpers.ts';

const ALICE = 'alice@mail.test';
const ALICE_PASSWORD = 'alice mailbox password';
const CAROL_PASSWORD = 'carol mailbox password';
const IMAP_NAME = 'imap.mail.test';

const skip = skipUnlessCi(
  dovecotMissing() || (!hasOpenssl() && 'openssl is missing (throwaway certificates)'),
);

describe('IMAP account back-end (real Dovecot)', { skip }, () => {
  let dir: string;
  let dovecot: Dovecot;
  let proxy: TcpProxy;
  let p: Running;
  let caFile: string;
  const running: Running[] = [];

  const provider = async (backend: Partial<ImapBackendOptions>, extra = {}) => {
    const r = await startProvider({
      accountBackend: {
        type: 'imap',
        host: '127.0.0.1',
        servername: IMAP_NAME,
        caFile,
        port: proxy.port,
        timeoutMs: 5000,
        ...backend,
      },
      ...extra,
    });
    running.push(r);
    return r;
  };

  before(async () => {
    dir = await tempDir();
    const pki = makeTestPki([IMAP_NAME]);
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, pki.caPem);
    dovecot = await startDovecot({
      users: { [ALICE]: ALICE_PASSWORD, carol: CAROL_PASSWORD },
      certPem: pki.certPem,
      keyPem: pki.keyPem,
    });
    proxy = await tcpProxy(dovecot.imapsPort);
    p = await provider({}, { signinFailuresPerAccount: 3 });
  });

  after(async () => {
    for (const r of running) await r.stop();
    for (const r of running) await removeDir(r.dataDir);
    await proxy?.close();
    await dovecot?.stop();
    await removeDir(dir);
  });

  it('signs alice in with her mailbox password (implicit TLS)', async () => {
    const page = await assertSignedIn(p.base, 'Alice@Mail.Test', ALICE_PASSWORD);
    assert.match(page, /Signed in as <strong>alice@mail.test<\/strong>/);
  });

  it('gives a wrong password the generic failure after exactly one IMAP login', async () => {
    const before = proxy.connections();
    const mismatches = (await dovecot.authLog()).length;
    const wrong = await assertRefused(p.base, ALICE, 'not her password');
    assert.equal(proxy.connections(), before + 1);
    await waitUntil(async () => (await dovecot.authLog()).length > mismatches);
    const logged = (await dovecot.authLog()).slice(mismatches);
    assert.equal(logged.length, 1);
    assert.match(logged[0] ?? '', /passwd-file\(alice@mail\.test,.*Password mismatch/);
    // An unknown user: the same page, one login too.
    const unknown = await assertRefused(p.base, 'nobody@mail.test', ALICE_PASSWORD);
    assert.equal(proxy.connections(), before + 2);
    assert.equal(unknown, wrong);
  });

  it('asks the server nothing for an empty password, a foreign domain or no address', async () => {
    const before = proxy.connections();
    const pages = new Set<string>();
    for (const [email, password] of [
      [ALICE, ''],
      ['alice@other.test', ALICE_PASSWORD],
      ['alice(@mail.test', ALICE_PASSWORD],
      ['not an address', ALICE_PASSWORD],
    ] as const) {
      pages.add(await assertRefused(p.base, email, password));
    }
    assert.equal(pages.size, 1);
    assert.equal(proxy.connections(), before);
  });

  it('throttles like every back-end: the right password is refused after the failures', async () => {
    p.clock.ms += 3_600_000;
    for (let i = 0; i < 3; i++) await assertRefused(p.base, ALICE, 'wrong again');
    const before = proxy.connections();
    const b = new Browser(p.base);
    const res = await b.signIn(ALICE, ALICE_PASSWORD);
    assert.equal(res.status, 429);
    assert.equal(proxy.connections(), before);
    p.clock.ms += 3_600_000;
  });

  it('logs in with the local part over required STARTTLS', async () => {
    const starttls = await tcpProxy(dovecot.imapPort);
    try {
      const r = await provider({ port: starttls.port, tls: 'starttls', login: 'local-part' });
      await assertSignedIn(r.base, 'carol@mail.test', CAROL_PASSWORD);
      await assertRefused(r.base, 'carol@mail.test', ALICE_PASSWORD);
    } finally {
      await starttls.close();
    }
  });

  it('refuses a server whose certificate it does not trust: try again later', async () => {
    const r = await provider({ caFile: '' });
    await assertUnavailable(r.base, ALICE, ALICE_PASSWORD);
  });

  it('gives "try again later" within its time budget when the server never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = await provider({ port, timeoutMs: 300 });
      const started = Date.now();
      await assertUnavailable(r.base, ALICE, ALICE_PASSWORD);
      assert.ok(Date.now() - started < 3000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('gives "try again later" when Dovecot is stopped, and signs in no one', async () => {
    await dovecot.stop();
    assert.equal(await dovecot.running(), false);
    await assertUnavailable(p.base, ALICE, ALICE_PASSWORD);
    await assertUnavailable(p.base, ALICE, 'not her password');
  });
});
