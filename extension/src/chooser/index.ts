// Email chooser: the extension's own window, showing the real site origin from the request
// the background stored (never anything the page said). Answers the background, then closes.
import browser from 'webextension-polyfill';
import { type ChooserRequest, chooserKey } from '../shared/chooser-request.ts';
import { localizePage, t } from '../shared/i18n.ts';
import type { ChooseMessage } from '../shared/messages.ts';
import { readPreferences } from '../shared/storage.ts';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

async function answer(requestId: string, email: string | null): Promise<void> {
  const message: ChooseMessage = {
    type: 'chooser-to-background:choose',
    requestId,
    email,
    remember: byId<HTMLInputElement>('remember').checked,
  };
  await browser.runtime.sendMessage(message).catch(() => undefined);
  window.close();
}

async function main(): Promise<void> {
  localizePage();
  const requestId = new URLSearchParams(location.search).get('request') ?? '';
  const key = chooserKey(requestId);
  const request = (await browser.storage.session.get(key))[key] as ChooserRequest | undefined;
  const status = byId('chooser-status');
  if (!request) {
    status.textContent = t('chooser_expired');
    byId<HTMLButtonElement>('use').disabled = true;
    return;
  }
  byId('site').textContent = request.site;
  const { emails, defaultEmail } = await readPreferences(browser.storage.local);
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
      row.append(radio, ' ', label);
      return row;
    }),
  );
  // Keyboard users start on the proposed address: arrows move, Enter on the button signs in.
  document.querySelector<HTMLInputElement>('input[name=email]:checked')?.focus();
  byId<HTMLFormElement>('choose-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const picked = document.querySelector<HTMLInputElement>('input[name=email]:checked');
    if (!picked) {
      status.textContent = t('chooser_pick_one');
      return;
    }
    void answer(requestId, picked.value);
  });
  byId('cancel').addEventListener('click', () => void answer(requestId, null));
}

void main();
