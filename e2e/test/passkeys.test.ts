// Passkeys as the second factor of built-in accounts (issue 16 item 4), in Chromium with a
// virtual authenticator (CDP WebAuthn domain), the real extension and real HTTPS: a passkey
// registered on the account page, then every password sign-in of the account needs it, at
// the provider's page and in the extension's popup; a wrong password never reaches the
// passkey step; without the authenticator the sign-in fails like any failure, with no session;
// the passkey alone (discoverable, user verified) also signs in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CDPSession, Page } from 'playwright';
import { signOutAtProvider } from '../src/flows.ts';
import { ALICE, addAddressInExtension, answerConfirmation } from '../src/steps.ts';
import { startTopology, type Topology } from '../src/topology.ts';

type Credential = {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
};

/** A platform authenticator with user verification, in this page only (CDP is per tab). */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return { cdp, id: authenticatorId };
}

async function credentials(a: { cdp: CDPSession; id: string }): Promise<Credential[]> {
  const { credentials } = await a.cdp.send('WebAuthn.getCredentials', { authenticatorId: a.id });
  return credentials as Credential[];
}

/** Types the address and password on the provider's sign-in page and submits. */
async function submitPassword(page: Page, password: string): Promise<void> {
  await page.goto('https://mail.test/signin');
  await page.getByLabel('Email address').fill(ALICE.email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function hasProviderSession(page: Page): Promise<boolean> {
  await page.goto('https://mail.test/account');
  return new URL(page.url()).pathname === '/account';
}

describe('passkeys as the second factor of a built-in account', () => {
  let t: Topology;
  let page: Page;
  let authenticator: { cdp: CDPSession; id: string };
  let saved: Credential[] = [];
  before(async () => {
    t = await startTopology('association');
    await t.provider.accounts.create(ALICE.email, ALICE.password);
    page = await t.browser.context.newPage();
    authenticator = await virtualAuthenticator(page);
  });
  after(async () => t?.close());

  test('a passkey is registered on the account page', async () => {
    await submitPassword(page, ALICE.password);
    await page.waitForURL('https://mail.test/account');
    await page.getByText('No passkeys.').waitFor();
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('heading', { name: 'Add a passkey' }).waitFor();
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL('https://mail.test/account');
    assert.equal(await page.locator('#passkeys tbody tr').count(), 1);
    saved = await credentials(authenticator);
    assert.equal(saved.length, 1);
    assert.equal(saved[0]?.rpId, 'mail.test', 'the RP ID is the issuer host');
    const shown = (await page.locator('#passkeys code').textContent()) ?? '';
    assert.ok(shown.length > 0);
  });

  test('after signing out, the right password leads to the passkey, then to the account', async () => {
    await signOutAtProvider(page);
    t.providerLog.clear();
    await submitPassword(page, ALICE.password);
    await page.getByRole('heading', { name: 'Confirm with your passkey' }).waitFor();
    assert.equal(await hasSessionCookie(page), false, 'no session before the passkey');
    await page.getByRole('button', { name: 'Use passkey' }).click();
    await page.waitForURL('https://mail.test/account');
    await page.getByText(`Signed in as ${ALICE.email}.`).waitFor();
    const counter = (await credentials(authenticator))[0]?.signCount ?? 0;
    assert.ok(counter > (saved[0]?.signCount ?? 0), 'the authenticator counted the signature');
  });

  test('a passkey alone signs in from the sign-in page (the authenticator verified the user)', async () => {
    await signOutAtProvider(page);
    assert.equal((await credentials(authenticator))[0]?.isResidentCredential, true);
    await page.goto('https://mail.test/signin');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Sign in with a passkey' }).waitFor();
    await page.getByRole('button', { name: 'Use passkey' }).click();
    await page.waitForURL('https://mail.test/account');
    await page.getByText(`Signed in as ${ALICE.email}.`).waitFor();
  });

  test('a wrong password never reaches the passkey step', async () => {
    await signOutAtProvider(page);
    t.providerLog.clear();
    await submitPassword(page, 'not the password at all');
    await page.getByRole('alert').filter({ hasText: 'Email or password is wrong.' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Confirm with your passkey' }).count(), 0);
    assert.equal(t.providerLog.count('/signin/passkey'), 0);
    assert.equal(await hasProviderSession(page), false);
  });

  test('without the authenticator the sign-in fails with the generic page and no session', async () => {
    saved = await credentials(authenticator);
    await authenticator.cdp.send('WebAuthn.removeVirtualAuthenticator', {
      authenticatorId: authenticator.id,
    });
    await submitPassword(page, ALICE.password);
    await page.getByRole('heading', { name: 'Confirm with your passkey' }).waitFor();
    // No authenticator at all: the browser waits for one; the user gives up with Cancel.
    await page.getByRole('button', { name: 'Use passkey' }).click();
    await page.getByText('Waiting for your passkey…').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL('https://mail.test/signin/passkey');
    await page.getByRole('alert').filter({ hasText: 'Email or password is wrong.' }).waitFor();
    assert.equal(
      await page.getByRole('heading', { name: 'Sign in to your email account' }).count(),
      1,
    );
    assert.equal(await hasProviderSession(page), false);
  });

  test('an authenticator without the passkey: refused by the browser, the generic page, no session', async () => {
    authenticator = await virtualAuthenticator(page);
    await submitPassword(page, ALICE.password);
    await page.getByRole('heading', { name: 'Confirm with your passkey' }).waitFor();
    await page.getByRole('button', { name: 'Use passkey' }).click();
    await page.waitForURL('https://mail.test/signin/passkey');
    await page.getByRole('alert').filter({ hasText: 'Email or password is wrong.' }).waitFor();
    assert.equal(await hasProviderSession(page), false);
    // The pending sign-in was used up: its cookie is gone with it.
    const cookies = await page.context().cookies('https://mail.test');
    assert.equal(cookies.filter((c) => c.name === '__Host-bsso_passkey').length, 0);
  });

  test('a site sign-in through the extension: the popup asks for the password, then the passkey', async () => {
    await addAddressInExtension(t, ALICE.email);
    await page.goto('https://site.test/');
    const confirmation = t.browser.context.waitForEvent('page');
    await page.locator('#bsso_sign_in_button').click();
    const confirmWindow = await confirmation;
    const popupOpened = t.browser.context.waitForEvent('page');
    await answerConfirmation(confirmWindow, { site: 'https://site.test', email: ALICE.email });
    const popup = await popupOpened;
    await popup.waitForURL(/^https:\/\/mail\.test\/signin\?/);
    // The popup is its own tab: its authenticator holds Alice's passkey (same key, same count).
    const popupAuthenticator = await virtualAuthenticator(popup);
    const credential = saved[0];
    assert.ok(credential);
    await popupAuthenticator.cdp.send('WebAuthn.addCredential', {
      authenticatorId: popupAuthenticator.id,
      credential,
    });
    assert.equal(await popup.getByLabel('Email address').inputValue(), ALICE.email);
    await popup.getByLabel('Password').fill(ALICE.password);
    await popup.getByRole('button', { name: 'Sign in' }).click();
    await popup.getByRole('heading', { name: 'Confirm with your passkey' }).waitFor();
    const closed = popup.waitForEvent('close');
    // The popup closes when it lands on bsso_popup=done, possibly before the click returns.
    await popup
      .getByRole('button', { name: 'Use passkey' })
      .click()
      .catch((err: unknown) => {
        if (!popup.isClosed()) throw err;
      });
    await closed;
    const state = page.locator('#signed-in-as');
    await state.waitFor({ timeout: 20_000 });
    assert.match((await state.textContent()) ?? '', /alice@mail\.test/);
  });

  test('the passkey is removed on the account page; then the password alone signs in', async () => {
    await page.goto('https://mail.test/account');
    await page.getByRole('button', { name: /^Remove passkey / }).click();
    await page.waitForURL('https://mail.test/account');
    await page.getByText('No passkeys.').waitFor();
    await signOutAtProvider(page);
    await submitPassword(page, ALICE.password);
    await page.waitForURL('https://mail.test/account');
  });
});

async function hasSessionCookie(page: Page): Promise<boolean> {
  const cookies = await page.context().cookies('https://mail.test');
  return cookies.some((c) => c.name === '__Host-bsso_provider');
}
