// The LDAP account back-end against a real OpenLDAP slapd on loopback (ldaps:// and
// STARTTLS, throwaway certificate): search the DN by mail as a service account, then bind
// as it. Right password signs in; wrong password, unknown user, a filter wildcard in the
// address and an empty password (an unauthenticated bind the server would accept) get the
// one generic failure and no session; slapd stopped gives "try again later".
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  hasOpenssl,
  makeTestPki,
  type Slapd,
  skipUnlessCi,
  slapdMissing,
  startSlapd,
  type TcpProxy,
  tcpProxy,
} from '@bsso/protocol/testing';
import { Client } from 'ldapts';
import type { LdapBackendOptions } from '../src/index.ts';
import { assertRefused, assertSignedIn, assertUnavailable } from './backend-outcomes.ts';
import { type Running, removeDir, startProvider, tempDir } from './helpers.ts';

const SUFFIX = 'dc=mail,dc=test';
const PEOPLE = `ou=people,${SUFFIX}`;
const SERVICE_DN = `cn=bsso,${SUFFIX}`;
const SERVICE_PASSWORD = 'service account password';
const LDAP_NAME = 'ldap.mail.test';
const ALICE_DN = `uid=alice,${PEOPLE}`;
const BOB_DN = `uid=bob,${PEOPLE}`;
const ALICE_PASSWORD = 'alice directory password';
const BOB_PASSWORD = 'bob directory password';
const STAR_PASSWORD = 'star directory password';

const person = (uid: string, mail: string, password: string) => `dn: uid=${uid},${PEOPLE}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${uid}
sn: ${uid}
mail: ${mail}
userPassword: ${password}
`;

const LDIF = [
  `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
o: mail
dc: mail
`,
  `dn: ${PEOPLE}
objectClass: organizationalUnit
ou: people
`,
  `dn: ${SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: bsso
userPassword: ${SERVICE_PASSWORD}
`,
  person('alice', 'alice@mail.test', ALICE_PASSWORD),
  person('bob', 'Bob@Mail.Test', BOB_PASSWORD),
  // parseEmail allows '*' in a local part: it must reach the filter as a literal.
  person('star', 'a*e@mail.test', STAR_PASSWORD),
].join('\n');

const skip = skipUnlessCi(
  slapdMissing() || (!hasOpenssl() && 'openssl is missing (throwaway certificates)'),
);

describe('LDAP account back-end (real slapd)', { skip }, () => {
  let dir: string;
  let slapd: Slapd;
  let proxy: TcpProxy;
  let p: Running;
  let caFile: string;
  let caPem: string;
  const running: Running[] = [];

  const provider = async (backend: Partial<LdapBackendOptions>) => {
    const r = await startProvider({
      accountBackend: {
        type: 'ldap',
        url: `ldaps://127.0.0.1:${proxy.port}`,
        baseDn: SUFFIX,
        bindDn: SERVICE_DN,
        bindPassword: SERVICE_PASSWORD,
        caFile,
        servername: LDAP_NAME,
        timeoutMs: 5000,
        ...backend,
      },
    });
    running.push(r);
    return r;
  };

  before(async () => {
    dir = await tempDir();
    const pki = makeTestPki([LDAP_NAME]);
    caPem = pki.caPem;
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, pki.caPem);
    slapd = await startSlapd({
      suffix: SUFFIX,
      rootPassword: 'root password',
      ldif: LDIF,
      certPem: pki.certPem,
      keyPem: pki.keyPem,
    });
    proxy = await tcpProxy(slapd.ldapsPort);
    p = await provider({});
  });

  after(async () => {
    for (const r of running) await r.stop();
    for (const r of running) await removeDir(r.dataDir);
    await proxy?.close();
    await slapd?.stop();
    await removeDir(dir);
  });

  it('signs alice and bob in with their directory passwords', async () => {
    const before = slapd.binds().length;
    assert.match(
      await assertSignedIn(p.base, 'alice@mail.test', ALICE_PASSWORD),
      /Signed in as <strong>alice@mail.test<\/strong>/,
    );
    // The directory's mail matches whatever its case.
    assert.match(
      await assertSignedIn(p.base, 'bob@mail.test', BOB_PASSWORD),
      /Signed in as <strong>bob@mail.test<\/strong>/,
    );
    assert.deepEqual(slapd.binds().slice(before), [SERVICE_DN, ALICE_DN, SERVICE_DN, BOB_DN]);
  });

  it('gives a wrong password and an unknown user the same failure, one bind each', async () => {
    const before = proxy.connections();
    const binds = slapd.binds().length;
    const wrong = await assertRefused(p.base, 'alice@mail.test', 'not her password');
    assert.deepEqual(slapd.binds().slice(binds), [SERVICE_DN, ALICE_DN]);
    const unknown = await assertRefused(p.base, 'nobody@mail.test', ALICE_PASSWORD);
    // The search found nobody: no user bind at all.
    assert.deepEqual(slapd.binds().slice(binds), [SERVICE_DN, ALICE_DN, SERVICE_DN]);
    assert.equal(proxy.connections(), before + 2);
    assert.equal(unknown, wrong);
  });

  it('escapes the address in the filter: a wildcard local part matches only itself', async () => {
    const binds = slapd.binds().length;
    // Unescaped, (mail=al*@mail.test) would find alice and bind as her.
    await assertRefused(p.base, 'al*@mail.test', ALICE_PASSWORD);
    await assertRefused(p.base, '*@mail.test', ALICE_PASSWORD);
    assert.deepEqual(slapd.binds().slice(binds), [SERVICE_DN, SERVICE_DN]);
    // The literal address with a '*' is an account like any other.
    await assertSignedIn(p.base, 'a*e@mail.test', STAR_PASSWORD);
    assert.deepEqual(slapd.binds().slice(binds + 2), [SERVICE_DN, `uid=star,${PEOPLE}`]);
  });

  it('never binds with an empty password, which this server would accept unauthenticated', async () => {
    // The server: a DN with an empty password is an anonymous bind, and it succeeds.
    const direct = new Client({
      url: `ldaps://127.0.0.1:${proxy.port}`,
      tlsOptions: { ca: caPem, servername: LDAP_NAME },
    });
    await direct.bind(ALICE_DN, '');
    await direct.unbind();
    // The provider: the generic failure, and no connection to the directory at all.
    const before = proxy.connections();
    const pages = new Set<string>();
    for (const [email, password] of [
      ['alice@mail.test', ''],
      ['alice@other.test', ALICE_PASSWORD],
      ['al(ice)@mail.test', ALICE_PASSWORD],
      ['al\\ice@mail.test', ALICE_PASSWORD],
    ] as const) {
      pages.add(await assertRefused(p.base, email, password));
    }
    assert.equal(pages.size, 1);
    assert.equal(proxy.connections(), before);
  });

  it('uses STARTTLS on ldap://; without the service account this directory cannot be searched: try again later', async () => {
    const starttls = await tcpProxy(slapd.ldapPort);
    try {
      const r = await provider({ url: `ldap://127.0.0.1:${starttls.port}` });
      await assertSignedIn(r.base, 'alice@mail.test', ALICE_PASSWORD);
      // This directory answers anonymous searches with noSuchObject: the provider cannot
      // check anyone, says so, and signs in no one.
      const anonymous = await startProvider({
        accountBackend: {
          type: 'ldap',
          url: `ldap://127.0.0.1:${starttls.port}`,
          baseDn: SUFFIX,
          caFile,
          servername: LDAP_NAME,
        },
      });
      running.push(anonymous);
      await assertUnavailable(anonymous.base, 'alice@mail.test', ALICE_PASSWORD);
    } finally {
      await starttls.close();
    }
  });

  it('gives "try again later" within its time budget when the directory never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const r = await provider({ url: `ldaps://127.0.0.1:${port}`, timeoutMs: 300 });
      const started = Date.now();
      await assertUnavailable(r.base, 'alice@mail.test', ALICE_PASSWORD);
      assert.ok(Date.now() - started < 3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('gives "try again later" when slapd is stopped, and signs in no one', async () => {
    await slapd.stop();
    assert.equal(await slapd.running(), false);
    await assertUnavailable(p.base, 'alice@mail.test', ALICE_PASSWORD);
    // An empty password is refused before the directory is asked at all.
    await assertRefused(p.base, 'alice@mail.test', '');
  });
});
