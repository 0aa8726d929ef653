// Debian's Chromium with the built extension loaded (the world it runs in: topology.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Worker } from 'playwright';

export const CHROMIUM_PATH = process.env.BSSO_CHROMIUM ?? '/usr/bin/chromium';
/** The unpacked Chrome build; BSSO_EXTENSION_DIR points elsewhere (e.g. an older build). */
export const EXTENSION_DIR =
  process.env.BSSO_EXTENSION_DIR ?? resolve(import.meta.dirname, '../../extension/dist/chrome');

export interface ExtensionBrowser {
  context: BrowserContext;
  extensionId: string;
  serviceWorker: Worker;
  close(): Promise<void>;
}

export async function launchWithExtension(networkArgs: string[]): Promise<ExtensionBrowser> {
  if (!existsSync(join(EXTENSION_DIR, 'manifest.json'))) {
    throw new Error(`No built extension at ${EXTENSION_DIR}: run "npm run build" first.`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'bsso-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...networkArgs,
    ],
  });
  const serviceWorker =
    context.serviceWorkers()[0] ??
    (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
  const extensionId = new URL(serviceWorker.url()).host;
  return {
    context,
    extensionId,
    serviceWorker,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
