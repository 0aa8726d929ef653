// The extension's own window for a sign-in: the chooser (which address does this site get?)
// or the confirmation (may this site get this address?). It shows the real site origin from
// the request the background stored (never anything the page said), answers the background,
// then closes.
import browser from 'webextension-polyfill';
import { createActivationGuard } from '../shared/activation-guard.ts';
import { brokeredAddresses } from '../shared/broker.ts';
import { chooserKey, readChooserRequest } from '../shared/chooser-request.ts';
import { localizePage, t } from '../shared/i18n.ts';
import type { ChooseMessage } from '../shared/messages.ts';
import { readPreferences } from '../shared/storage.ts';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

async function answer(requestId: string, email: string | null, remember: boolean): Promise<void> {
  const message: ChooseMessage = {
    type: 'chooser-to-background:choose',
    requestId,
    email,
    remember,
  };
  await browser.runtime.sendMessage(message).catch(() => undefined);
  window.close();
}

// The agreeing button of whichever form is shown: inert until the window has been in front
// for a moment (shared/activation-guard.ts).
const guard = createActivationGuard(() => performance.now());
let armTimer: ReturnType<typeof setTimeout> | undefined;

function armAfterDelay(button: HTMLButtonElement): void {
  const arm = () => {
    clearTimeout(armTimer);
    button.disabled = true;
    guard.rearm();
    armTimer = setTimeout(() => {
      button.disabled = false;
    }, guard.msLeft());
  };
  arm();
  // Back in front (the page may have pulled focus away and handed it back): wait again.
  window.addEventListener('focus', arm);
}

function setHeading(name: string): void {
  document.title = t(name);
  byId('heading').textContent = t(name);
}

async function showChooser(requestId: string): Promise<void> {
  setHeading('chooser_title');
  const form = byId<HTMLFormElement>('choose-form');
  form.hidden = false;
  const { emails, defaultEmail } = await readPreferences(browser.storage.local);
  const brokered = await brokeredAddresses(browser.storage.local, emails);
  byId('choices').replaceChildren(
    ...emails.map((email, i) => {
      const row = document.createElement('p');
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'email';
      radio.value = email;
      radio.id = `email-${i}`;
      radio.checked = email === defaultEmail || (defaultEmail === null && i === 0);
      const label = document.createElement('label');
      label.htmlFor = radio.id;
      label.textContent = email;
      const broker = brokered.get(email);
      // Addresses of domains without a provider go through the broker (protocol-spec.md#fallback).
      if (broker !== undefined) label.append(' ', t('chooser_via_broker', broker));
      row.append(radio, ' ', label);
      return row;
    }),
  );
  // Keyboard users start on the proposed address: arrows move, Enter on the button signs in.
  document.querySelector<HTMLInputElement>('input[name=email]:checked')?.focus();
  const remember = () => byId<HTMLInputElement>('remember').checked;
  armAfterDelay(byId<HTMLButtonElement>('use'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!guard.armed()) return;
    const picked = document.querySelector<HTMLInputElement>('input[name=email]:checked');
    if (!picked) {
      byId('chooser-status').textContent = t('chooser_pick_one');
      return;
    }
    void answer(requestId, picked.value, remember());
  });
  byId('cancel').addEventListener('click', () => void answer(requestId, null, false));
}

/**
 * The confirmation before the first sign-in of an address at a site. Focus starts on the
 * heading, so a key meant for the page as the window opens confirms nothing: Tab reaches
 * Continue, Enter confirms, Escape cancels.
 */
function showConfirmation(requestId: string, email: string): void {
  setHeading('confirm_title');
  byId('confirm-email').textContent = email;
  const form = byId<HTMLFormElement>('confirm-form');
  form.hidden = false;
  byId('heading').focus();
  armAfterDelay(byId<HTMLButtonElement>('continue'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!guard.armed()) return;
    void answer(requestId, email, false);
  });
  byId('confirm-cancel').addEventListener('click', () => void answer(requestId, null, false));
}

async function main(): Promise<void> {
  localizePage();
  const requestId = new URLSearchParams(location.search).get('request') ?? '';
  const key = chooserKey(requestId);
  const request = readChooserRequest((await browser.storage.session.get(key))[key]);
  if (!request) {
    setHeading('chooser_title');
    byId('chooser-status').textContent = t('chooser_expired');
    return;
  }
  byId('site').textContent = request.site;
  // Escape is Cancel, in both forms.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') void answer(requestId, null, false);
  });
  if (request.kind === 'confirm') showConfirmation(requestId, request.email);
  else await showChooser(requestId);
}

void main();
