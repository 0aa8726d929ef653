// The happy path in Debian's Firefox ESR with the real Firefox build: provider sign-in, the
// address added in the options page, site sign-in confirmed in the extension's window. Firefox has no host-to-port mapping, so a
// CONNECT proxy (src/proxy.ts) carries the test names to the servers' loopback ports.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createProvider, type Provider, silentLogger } from '@bsso/email-provider';
import { skipUnlessCi, testNetwork } from '@bsso/protocol/testing';
import { createDemoSite } from '@bsso/relying-site/demo';
import type { Page, Target } from 'puppeteer-core';
import {
  type FirefoxWithExtension,
  firefoxUnavailable,
  launchFirefoxWithExtension,
} from '../src/firefox.ts';
import { type HttpsSite, routeNodeFetch, serveHttps } from '../src/network.ts';
import { makeTestPki } from '../src/pki.ts';
import { type NameProxy, startNameProxy } from '../src/proxy.ts';
import { ALICE } from '../src/steps.ts';
import { PROVIDER_NAME, RequestLog, SITE_ENDPOINT, SITE_NAME } from '../src/topology.ts';

// Skipped on a machine without Firefox ESR or the build; under CI that fails instead.
const skip = skipUnlessCi(firefoxUnavailable());

describe('Firefox ESR: first sign-in with the Firefox build', { skip }, () => {
  let provider: Provider;
  let dataDir: string;
  const providerLog = new RequestLog();
  let servers: HttpsSite[] = [];
  let restoreFetch: () => void = () => {};
  let proxy: NameProxy | undefined;
  let firefox: FirefoxWithExtension | undefined;

  before(async () => {
    const pki = makeTestPki([PROVIDER_NAME, SITE_NAME]);
    dataDir = mkdtempSync(join(tmpdir(), 'bsso-provider-'));
    provider = await createProvider({
      issuer: `https://${PROVIDER_NAME}`,
      domains: [PROVIDER_NAME],
      dataDir,
      logger: silentLogger,
    });
    await provider.accounts.create(ALICE.email, ALICE.password);
    const mail = await serveHttps(PROVIDER_NAME, pki, providerLog.wrap(provider.app));
    const site = createDemoSite({
      endpoint: SITE_ENDPOINT,
      outbound: { network: testNetwork({ hosts: { [PROVIDER_NAME]: mail.port }, ca: pki.caPem }) },
    });
    servers = [mail, await serveHttps(SITE_NAME, pki, site)];
    restoreFetch = routeNodeFetch(servers, pki);
    proxy = await startNameProxy(servers);
    firefox = await launchFirefoxWithExtension(proxy.port);
  });

  after(async () => {
    await firefox?.close();
    await proxy?.close();
    restoreFetch();
    for (const s of servers) await s.close();
    await provider?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function signInAtProvider(page: Page): Promise<void> {
    await page.goto('https://mail.test/signin');
    await page.locator('#email').fill(ALICE.email);
    await page.locator('#password').fill(ALICE.password);
    await Promise.all([page.waitForNavigation(), page.locator('button[type=submit]').click()]);
    assert.equal(page.url(), 'https://mail.test/account');
  }

  /**
   * WebDriver BiDi may not navigate to moz-extension: URLs, so the options page is reached as
   * a new user does: the site's button with no address yet opens it.
   */
  async function addAddress(page: Page, fx: FirefoxWithExtension): Promise<void> {
    await page.goto('https://site.test/');
    // BiDi reports the new tab as about:blank; its document says where it really is.
    const opened = new Promise<Target>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no options tab opened')), 10_000);
      fx.browser.once('targetcreated', (t: Target) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
    await page.locator('#bsso_sign_in_button').click();
    const options = await (await opened).page();
    assert.ok(options, 'a tab opened');
    await options.waitForFunction(
      (url) => location.href === url && document.readyState === 'complete',
      {},
      `${fx.extensionBase}src/options/index.html`,
    );
    await options.locator('#email-input').fill(ALICE.email);
    await options.locator('#add-email').click();
    await options.waitForFunction(
      (email) => document.getElementById('email-list')?.textContent?.includes(email),
      {},
      ALICE.email,
    );
    await options.close();
  }

  /** The next page the browser opens (BiDi reports it as about:blank at first). */
  function nextPage(fx: FirefoxWithExtension, what: string): Promise<Page> {
    return new Promise<Page>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} opened`)), 10_000);
      fx.browser.once('targetcreated', (t: Target) => {
        clearTimeout(timer);
        t.page().then((p) => (p ? resolve(p) : reject(new Error(`${what}: no page`))), reject);
      });
    });
  }

  /** The extension's confirmation window: the real origin and the address, then Continue. */
  async function continueInConfirmation(window: Page, fx: FirefoxWithExtension): Promise<void> {
    await window.waitForFunction(
      (url) =>
        location.href.startsWith(url) && document.getElementById('confirm-form')?.hidden === false,
      {},
      `${fx.extensionBase}src/chooser/index.html?request=`,
    );
    const shown = await window.evaluate(() => [
      document.getElementById('site')?.textContent,
      document.getElementById('confirm-email')?.textContent,
    ]);
    assert.deepEqual(shown, ['https://site.test', ALICE.email]);
    // The window closes on the answer, possibly before the click completes.
    await window
      .locator('#continue')
      .click()
      .catch((err: unknown) => {
        if (!window.isClosed()) throw err;
      });
  }

  test('provider sign-in, address added, site sign-in after the confirmation', async () => {
    assert.ok(firefox);
    const page = await firefox.browser.newPage();
    await signInAtProvider(page);
    await addAddress(page, firefox);
    providerLog.clear();

    await page.goto('https://site.test/');
    // The first sign-in of the address at the site: the extension's confirmation window.
    const confirmation = nextPage(firefox, 'confirmation window');
    const navigated = page.waitForNavigation({ timeout: 20_000 });
    await page.locator('#bsso_sign_in_button').click();
    await continueInConfirmation(await confirmation, firefox);
    await navigated;
    const signedIn = await page.waitForSelector('#signed-in-as', { timeout: 20_000 });
    assert.match((await signedIn?.evaluate((el) => el.textContent)) ?? '', /alice@mail\.test/);
    assert.equal(new URL(page.url()).origin, 'https://site.test');
    assert.equal(providerLog.count('/bsso/assertion'), 1);
  });
});
