// Providers that keep the accounts they already have (protocol-spec.md#provider-processing,
// Sign-in page): in real Chromium with the extension, alice signs in to the demo site with
// the password of her mailbox on a real Dovecot, and bob with his directory password on a
// real slapd, and through her company's OpenID provider. The provider's sign-in popup is the
// same page whoever checks the password; a wrong password first gets the generic message,
// in the popup, and no session.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AccountBackendOptions } from '@bsso/email-provider';
import {
  type Dovecot,
  dovecotMissing,
  makeTestPki,
  type Slapd,
  skipUnlessCi,
  slapdMissing,
  startDovecot,
  startSlapd,
} from '@bsso/protocol/testing';
import type { Page } from 'playwright';
import { createTestIdp } from '../src/idp.ts';
import { addAddressInExtension, answerConfirmation } from '../src/steps.ts';
import { startTopology, type Topology } from '../src/topology.ts';

const SITE = 'https://site.test';
const ALICE = { email: 'alice@mail.test', password: 'alice mailbox password' };
const BOB = { email: 'bob@mail.test', password: 'bob directory password' };
const SERVER_NAME = 'accounts.mail.test';

/**
 * The first sign-in at the site while signed out at the provider: the extension asks for
 * consent, then opens the provider's sign-in popup, where the user types `passwords` in turn
 * (all but the last are refused with the generic message). Returns the site's signed-in text.
 */
async function signInThroughPopup(
  t: Topology,
  email: string,
  passwords: string[],
): Promise<string> {
  const page: Page = await t.browser.context.newPage();
  await page.goto(`${SITE}/`);
  const confirmation = t.browser.context.waitForEvent('page');
  await page.locator('#bsso_sign_in_button').click();
  const confirmWindow = await confirmation;
  const popupOpened = t.browser.context.waitForEvent('page');
  await answerConfirmation(confirmWindow, { site: SITE, email });
  const popup = await popupOpened;
  await popup.waitForURL(/^https:\/\/mail\.test\/signin\?/);
  assert.equal(await popup.getByLabel('Email address').inputValue(), email);
  for (const [i, password] of passwords.entries()) {
    await popup.getByLabel('Password').fill(password);
    if (i < passwords.length - 1) {
      await popup.getByRole('button', { name: 'Sign in' }).click();
      const alert = popup.getByRole('alert');
      await alert.waitFor();
      assert.equal(await alert.textContent(), 'Email or password is wrong.');
      assert.equal(
        (await t.browser.context.cookies('https://mail.test')).some((c) =>
          c.name.includes('session'),
        ),
        false,
        'no provider session after a wrong password',
      );
      continue;
    }
    const closed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: 'Sign in' }).click();
    await closed;
  }
  const state = page.locator('#signed-in-as');
  await state.waitFor({ timeout: 20_000 });
  return (await state.textContent()) ?? '';
}

describe('alice signs in with her mailbox password (IMAP back-end, real Dovecot)', {
  skip: skipUnlessCi(dovecotMissing()),
}, () => {
  let dir: string;
  let dovecot: Dovecot;
  let t: Topology;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bsso-e2e-imap-'));
    const pki = makeTestPki([SERVER_NAME]);
    await writeFile(join(dir, 'ca.pem'), pki.caPem);
    dovecot = await startDovecot({
      users: { [ALICE.email]: ALICE.password },
      certPem: pki.certPem,
      keyPem: pki.keyPem,
    });
    const accountBackend: AccountBackendOptions = {
      type: 'imap',
      host: '127.0.0.1',
      port: dovecot.imapsPort,
      servername: SERVER_NAME,
      caFile: join(dir, 'ca.pem'),
    };
    t = await startTopology('association', { accountBackend });
    await addAddressInExtension(t, ALICE.email);
  });
  after(async () => {
    await t?.close();
    await dovecot?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a wrong password is refused in the popup; the mailbox password signs her in', async () => {
    const text = await signInThroughPopup(t, ALICE.email, [
      'not the mailbox password',
      ALICE.password,
    ]);
    assert.match(text, /alice@mail\.test/);
    assert.equal(t.providerLog.count('/bsso/assertion'), 2, 'one request, one retry');
  });
});

describe('bob signs in with his directory password (LDAP back-end, real slapd)', {
  skip: skipUnlessCi(slapdMissing()),
}, () => {
  let dir: string;
  let slapd: Slapd;
  let t: Topology;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bsso-e2e-ldap-'));
    const pki = makeTestPki([SERVER_NAME]);
    await writeFile(join(dir, 'ca.pem'), pki.caPem);
    slapd = await startSlapd({
      suffix: 'dc=mail,dc=test',
      rootPassword: 'root password',
      certPem: pki.certPem,
      keyPem: pki.keyPem,
      ldif: `dn: dc=mail,dc=test
objectClass: dcObject
objectClass: organization
o: mail
dc: mail

dn: cn=bsso,dc=mail,dc=test
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: bsso
userPassword: service password

dn: uid=bob,dc=mail,dc=test
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: B
mail: ${BOB.email}
userPassword: ${BOB.password}
`,
    });
    const accountBackend: AccountBackendOptions = {
      type: 'ldap',
      url: `ldaps://127.0.0.1:${slapd.ldapsPort}`,
      servername: SERVER_NAME,
      baseDn: 'dc=mail,dc=test',
      bindDn: 'cn=bsso,dc=mail,dc=test',
      bindPassword: 'service password',
      caFile: join(dir, 'ca.pem'),
    };
    t = await startTopology('direct', { accountBackend });
    await addAddressInExtension(t, BOB.email);
  });
  after(async () => {
    await t?.close();
    await slapd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a wrong password is refused in the popup; the directory password signs him in', async () => {
    const text = await signInThroughPopup(t, BOB.email, ['not his password', BOB.password]);
    assert.match(text, /bob@mail\.test/);
    assert.deepEqual(slapd.binds().slice(-2), [
      'cn=bsso,dc=mail,dc=test',
      'uid=bob,dc=mail,dc=test',
    ]);
  });
});

describe('alice signs in through her company identity provider (OpenID Connect back-end, real oidc-provider)', () => {
  let t: Topology;
  const idp = createTestIdp({ alice: { email: ALICE.email, email_verified: true } });
  before(async () => {
    t = await startTopology('association', {
      idpHandler: idp.handler,
      accountBackend: {
        type: 'oidc',
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        label: 'Mail Corp',
      },
    });
    await addAddressInExtension(t, ALICE.email);
  });
  after(async () => t?.close());

  test('the popup shows the company button; the round trip signs her in at the site', async () => {
    idp.nextUser = 'alice';
    const page = await t.browser.context.newPage();
    await page.goto(`${SITE}/`);
    const confirmation = t.browser.context.waitForEvent('page');
    await page.locator('#bsso_sign_in_button').click();
    const confirmWindow = await confirmation;
    const popupOpened = t.browser.context.waitForEvent('page');
    await answerConfirmation(confirmWindow, { site: SITE, email: ALICE.email });
    const popup = await popupOpened;
    await popup.waitForURL(/^https:\/\/mail\.test\/signin\?/);
    assert.equal(await popup.getByLabel('Password').count(), 0, 'no password form');
    const closed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: 'Sign in with Mail Corp' }).click();
    await closed;
    const state = page.locator('#signed-in-as');
    await state.waitFor({ timeout: 20_000 });
    assert.match((await state.textContent()) ?? '', /alice@mail\.test/);
    assert.equal(t.providerLog.count('/signin/upstream/callback'), 1);
  });
});
