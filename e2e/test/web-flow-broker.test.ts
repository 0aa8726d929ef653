// The web flow through the fallback broker in Chromium WITHOUT the extension
// (protocol-spec.md#web-flow, #fallback; issue 14): an address of a domain without a provider
// signs in at the demo site through the broker's web endpoint, with the code from the mail
// the real SMTP server received, consent once, and back at the site signed in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BrokerWorld, startBrokerWorld } from '../src/broker-world.ts';
import { launchWithoutExtension, type PlainBrowser } from '../src/plain-browser.ts';

const CAROL = 'carol@plain.test';

describe('web flow through the fallback broker', () => {
  let w: BrokerWorld;
  let plain: PlainBrowser;
  before(async () => {
    w = await startBrokerWorld();
    plain = await launchWithoutExtension(w.networkArgs);
  });
  after(async () => {
    await plain?.close();
    await w?.close();
  });

  test('an address without a provider: the broker code page, consent, back at the site signed in', async () => {
    const page = await plain.context.newPage();
    await page.goto('https://site.test/');
    await page.locator('#bsso_sign_in_button').click();
    await page.waitForURL('https://site.test/bsso?bsso=start');
    await page.getByLabel('Email address').fill(CAROL);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/^https:\/\/broker\.test\/signin\?/);
    assert.equal(await page.getByLabel('Email address').inputValue(), CAROL);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.locator('#code').fill(w.codeFor(CAROL));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in to https://site.test?' }).waitFor();
    assert.equal(new URL(page.url()).origin, 'https://broker.test');
    await page.locator('#continue:enabled').waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    const state = page.locator('#signed-in-as');
    await state.waitFor({ timeout: 20_000 });
    assert.match((await state.textContent()) ?? '', /carol@plain\.test/);
    assert.equal(new URL(page.url()).origin, 'https://site.test');
    await page.close();
  });
});
