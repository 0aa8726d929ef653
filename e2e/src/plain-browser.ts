// Debian's Chromium WITHOUT the extension, on the same test network as the topology's browser
// (network.ts: host-resolver rules and the test leaf's key): a visitor who never installed
// BSSO, for the web flow (protocol-spec.md#web-flow).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright';
import { CHROMIUM_PATH } from './browser.ts';

export interface PlainBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchWithoutExtension(networkArgs: string[]): Promise<PlainBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'bsso-plain-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...networkArgs,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
