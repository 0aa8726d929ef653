// The fallback broker in Chromium with the extension (protocol-spec.md#fallback; threats 46,
// 47): an address of a domain without a provider signs in through the broker with the code
// read from the mail the real SMTP server received; the next sign-in is one click; the site
// never accepts the broker for a domain that names its own provider.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SIGNING_KEYS_FILE } from '@bsso/email-provider';
import { createAssertion } from '@bsso/protocol';
import { CookieJar } from '@bsso/protocol/testing';
import { importJWK, type JWK } from 'jose';
import { BROKER, type BrokerWorld, startBrokerWorld } from '../src/broker-world.ts';
import { createTestIdp } from '../src/idp.ts';
import { answerConfirmation, signInAtSite } from '../src/steps.ts';
import { SITE_ENDPOINT } from '../src/topology.ts';

const BOB = 'bob@plain.test';

describe('sign-in through the fallback broker', () => {
  let w: BrokerWorld;
  before(async () => {
    w = await startBrokerWorld();
  });
  after(async () => w?.close());

  test('a domain without a provider: the code from the mail, then one click', async () => {
    const options = await w.browser.context.newPage();
    await options.goto(`chrome-extension://${w.browser.extensionId}/src/options/index.html`);
    await options.locator('#email-input').fill(BOB);
    await options.locator('#add-email').click();
    await options.locator('#email-list', { hasText: BOB }).waitFor();
    await options.locator('#broker-input').fill(BROKER);
    await options.locator('#save-broker').click();
    await options.locator('#broker-status', { hasText: BROKER }).waitFor();
    await options.close();

    const page = await w.browser.context.newPage();
    await page.goto('https://site.test/');
    const context = page.context();
    const confirmation = context.waitForEvent('page');
    await page.locator('#bsso_sign_in_button').click();
    const confirmWindow = await confirmation;
    const popupOpened = context.waitForEvent('page');
    await answerConfirmation(confirmWindow, { site: 'https://site.test', email: BOB });
    const popup = await popupOpened;
    await popup.waitForURL(/^https:\/\/broker\.test\/signin\?/);
    assert.equal(await popup.getByLabel('Email address').inputValue(), BOB);
    await popup.getByRole('button', { name: 'Send me a code' }).click();
    await popup.locator('#code').waitFor();
    assert.equal(w.mails.length, 1, 'one mail over SMTP');
    assert.deepEqual(w.mails[0]?.to, [BOB]);
    const closed = popup.waitForEvent('close');
    await popup.locator('#code').fill(w.codeFor(BOB));
    await popup
      .getByRole('button', { name: 'Sign in' })
      .click()
      .catch(() => {});
    await closed;
    const state = page.locator('#signed-in-as');
    await state.waitFor({ timeout: 20_000 });
    assert.match((await state.textContent()) ?? '', /bob@plain\.test/);

    // Signed out at the site, signed in again: one click, no window, no mail.
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.locator('#bsso_sign_in_button').waitFor();
    assert.match(await signInAtSite(page), /bob@plain\.test/);
    assert.equal(w.mails.length, 1, 'no second mail');
    await page.close();
  });

  test('the broker mails no code for a domain that names its own provider (threat 46)', async () => {
    const page = await w.browser.context.newPage();
    await page.goto(`${BROKER}/signin?login_hint=alice%40mail.test`);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.getByText('names its own sign-in provider').waitFor();
    assert.equal(w.mails.filter((m) => m.to.includes('alice@mail.test')).length, 0);
    await page.close();
  });

  test('the site refuses a broker assertion for a domain that names its own provider (threat 46)', async () => {
    // The broker's own key signs for alice@mail.test, as a compromised broker could.
    const file = JSON.parse(readFileSync(join(w.brokerDataDir, SIGNING_KEYS_FILE), 'utf8')) as {
      keys: { kid: string; private_jwk: JWK }[];
    };
    const key = file.keys[0];
    assert.ok(key);
    const privateKey = await importJWK(key.private_jwk, 'EdDSA');
    assert.ok(!(privateKey instanceof Uint8Array));
    const jar = new CookieJar();
    const challenge = await fetch('https://site.test/bsso?bsso=challenge&domain=mail.test');
    jar.keep(challenge);
    const { nonce } = (await challenge.json()) as { nonce: string };
    const assertion = await createAssertion({
      issuer: BROKER,
      email: 'alice@mail.test',
      audience: SITE_ENDPOINT,
      nonce,
      now: Date.now(),
      key: { kind: 'provider', kid: key.kid, privateKey },
    });
    w.brokerLog.clear();
    const res = await fetch('https://site.test/bsso', {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ assertion }).toString(),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_issuer');
    assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith('__Host-bsso_session=')));
    assert.deepEqual(w.brokerLog.serverToServer(), [], 'the broker is never asked');
  });
});

describe('a bridged domain signs in through its own OpenID provider', () => {
  let w: BrokerWorld;
  const idp = createTestIdp({ carol: { email: 'carol@corp.test', email_verified: true } }, [
    `${BROKER}/broker/bridge/callback`,
  ]);
  before(async () => {
    w = await startBrokerWorld({ idp });
  });
  after(async () => w?.close());

  test('carol@corp.test: through idp.test, no mail, then one click', async () => {
    idp.nextUser = 'carol';
    const CAROL = 'carol@corp.test';
    const options = await w.browser.context.newPage();
    await options.goto(`chrome-extension://${w.browser.extensionId}/src/options/index.html`);
    await options.locator('#email-input').fill(CAROL);
    await options.locator('#add-email').click();
    await options.locator('#email-list', { hasText: CAROL }).waitFor();
    await options.locator('#broker-input').fill(BROKER);
    await options.locator('#save-broker').click();
    await options.locator('#broker-status', { hasText: BROKER }).waitFor();
    await options.close();

    const page = await w.browser.context.newPage();
    await page.goto('https://site.test/');
    const context = page.context();
    const confirmation = context.waitForEvent('page');
    await page.locator('#bsso_sign_in_button').click();
    const confirmWindow = await confirmation;
    const popupOpened = context.waitForEvent('page');
    await answerConfirmation(confirmWindow, { site: 'https://site.test', email: CAROL });
    const popup = await popupOpened;
    await popup.waitForURL(/^https:\/\/broker\.test\/signin\?/);
    const closed = popup.waitForEvent('close');
    await popup
      .getByRole('button', { name: 'Continue with your email provider' })
      .click()
      .catch(() => {});
    await closed;
    const state = page.locator('#signed-in-as');
    await state.waitFor({ timeout: 20_000 });
    assert.match((await state.textContent()) ?? '', /carol@corp\.test/);
    assert.equal(w.mails.length, 0, 'no mail for a bridged domain');
    assert.equal(w.brokerLog.count('/broker/bridge/callback'), 1);

    await page.getByRole('button', { name: /sign out/i }).click();
    await page.locator('#bsso_sign_in_button').waitFor();
    assert.match(await signInAtSite(page), /carol@corp\.test/);
    assert.equal(w.brokerLog.count('/broker/bridge/callback'), 1, 'one click, no new round trip');
  });
});
