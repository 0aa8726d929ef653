// What a person does, step by step, in the real browser.
import type { Page } from 'playwright';
import type { Topology } from './topology.ts';

export const ALICE = { email: 'alice@mail.test', password: 'correct horse battery staple' };

/** Signs in at the provider's own sign-in page, as a person would. */
export async function signInAtProvider(page: Page, email: string, password: string): Promise<void> {
  await page.goto('https://mail.test/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL('https://mail.test/account');
}

/** Adds an address in the extension's options page; with one address it is the default. */
export async function addAddressInExtension(t: Topology, email: string): Promise<void> {
  const page = await t.browser.context.newPage();
  await page.goto(`chrome-extension://${t.browser.extensionId}/src/options/index.html`);
  await page.locator('#email-input').fill(email);
  await page.locator('#add-email').click();
  await page.locator('#email-list', { hasText: email }).waitFor();
  await page.close();
}

/** Clicks the site's BSSO button and waits to land signed in. Returns the signed-in text. */
export async function signInAtSite(page: Page): Promise<string> {
  await page.goto('https://site.test/');
  await page.locator('#bsso_sign_in_button').click();
  const state = page.locator('#signed-in-as');
  await state.waitFor({ timeout: 20_000 });
  return (await state.textContent()) ?? '';
}
