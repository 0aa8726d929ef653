// Debian's Firefox ESR driven over WebDriver BiDi (puppeteer-core) with the built Firefox
// extension installed (README.md, "Two commands": /usr/bin/firefox-esr, never downloaded).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const FIREFOX_PATH = process.env.BSSO_FIREFOX ?? '/usr/bin/firefox-esr';
export const FIREFOX_EXTENSION_DIR = resolve(import.meta.dirname, '../../extension/dist/firefox');
/** The Firefox build's add-on id (manifest browser_specific_settings.gecko.id). */
export const FIREFOX_EXTENSION_ID = 'bsso@bsso.dev';

export interface FirefoxWithExtension {
  browser: Browser;
  /** moz-extension://<uuid>/ of the installed extension. */
  extensionBase: string;
  close(): Promise<void>;
}

/** Why Firefox tests cannot run here, or undefined when they can. */
export function firefoxUnavailable(): string | undefined {
  if (!existsSync(FIREFOX_PATH)) {
    return `no Firefox at ${FIREFOX_PATH} (apt-get install firefox-esr, or set BSSO_FIREFOX)`;
  }
  if (!existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json'))) {
    return `no built extension at ${FIREFOX_EXTENSION_DIR}: run "npm run build"`;
  }
  return undefined;
}

export async function launchFirefoxWithExtension(proxyPort: number): Promise<FirefoxWithExtension> {
  // A fixed internal UUID, so the test knows the extension's pages' URLs.
  const uuid = randomUUID();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    // The test CA's leaf: WebDriver's insecure-certs switch applies to the whole browser,
    // the extension's own requests included.
    acceptInsecureCerts: true,
    dumpio: process.env.BSSO_DEBUG === '1',
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [FIREFOX_EXTENSION_ID]: uuid }),
      // MV3 host permissions granted at install, as release Firefox does after the install
      // prompt (the test installs without one).
      'extensions.originControls.grantByDefault': true,
      // Every https name through the test proxy (no port mapping in Firefox).
      ...(process.env.BSSO_DEBUG === '1'
        ? { 'devtools.console.stdout.chrome': true, 'devtools.console.stdout.content': true }
        : {}),
      'network.proxy.type': 1,
      'network.proxy.ssl': '127.0.0.1',
      'network.proxy.ssl_port': proxyPort,
      'network.proxy.http': '127.0.0.1',
      'network.proxy.http_port': proxyPort,
      'network.proxy.no_proxies_on': '',
      'network.proxy.share_proxy_settings': false,
    },
  });
  try {
    await browser.installExtension(FIREFOX_EXTENSION_DIR);
  } catch (err) {
    await browser.close();
    throw err;
  }
  return {
    browser,
    extensionBase: `moz-extension://${uuid}/`,
    close: () => browser.close(),
  };
}
