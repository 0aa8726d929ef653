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

/**
 * Answers the extension's confirmation window (the first sign-in of an address at a site),
 * after checking that it shows the site's real origin and the address: Continue or Cancel,
 * by mouse or by keyboard (focus starts on the heading: Tab reaches Continue, Escape cancels).
 */
export async function answerConfirmation(
  window: Page,
  expected: { site: string; email: string },
  answer: 'continue' | 'cancel' = 'continue',
  by: 'mouse' | 'keyboard' = 'mouse',
): Promise<void> {
  await window.locator('#confirm-form').waitFor();
  const site = (await window.locator('#site').textContent()) ?? '';
  const email = (await window.locator('#confirm-email').textContent()) ?? '';
  if (site !== expected.site || email !== expected.email) {
    throw new Error(`the confirmation shows ${site} / ${email}`);
  }
  const closed = window.waitForEvent('close');
  // The window closes on the answer, possibly before the click or key is released.
  const unlessClosed = (err: unknown) => {
    if (!window.isClosed()) throw err;
  };
  if (by === 'keyboard') {
    if (answer === 'continue') {
      // Continue is inert for a moment after the window shows (a page cannot click it blind).
      await window.locator('#continue:enabled').waitFor();
      await window.keyboard.press('Tab');
      const focused = await window.evaluate(() => document.activeElement?.id);
      if (focused !== 'continue') throw new Error(`Tab focused #${focused}, not Continue`);
      await window.keyboard.press('Enter').catch(unlessClosed);
    } else {
      await window.keyboard.press('Escape').catch(unlessClosed);
    }
  } else {
    const name = answer === 'continue' ? 'Continue' : 'Cancel';
    await window.getByRole('button', { name }).click().catch(unlessClosed);
  }
  await closed;
}

/**
 * Clicks the site's BSSO button and waits to land signed in. With `confirmAs`, the extension
 * asks first (first sign-in of that address at the site) and the user clicks Continue;
 * without it, no window may open. Returns the signed-in text.
 */
export async function signInAtSite(
  page: Page,
  options: { confirmAs?: string } = {},
): Promise<string> {
  await page.goto('https://site.test/');
  const opened: Page[] = [];
  const onPage = (p: Page) => opened.push(p);
  const context = page.context();
  const confirmation = options.confirmAs ? context.waitForEvent('page') : undefined;
  if (!confirmation) context.on('page', onPage);
  try {
    await page.locator('#bsso_sign_in_button').click();
    if (confirmation && options.confirmAs) {
      await answerConfirmation(await confirmation, {
        site: 'https://site.test',
        email: options.confirmAs,
      });
    }
    const state = page.locator('#signed-in-as');
    await state.waitFor({ timeout: 20_000 });
    if (opened.length > 0) throw new Error(`a window opened: ${opened[0]?.url()}`);
    return (await state.textContent()) ?? '';
  } finally {
    context.off('page', onPage);
  }
}
