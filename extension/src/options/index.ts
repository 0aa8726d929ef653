// Options page: the user's addresses (add, check, remove, default), remembered per-site
// choices, the confirmation before a first sign-in at a site, and connected sites. Reads and writes storage.local through shared/storage.ts.
import { BssoError } from '@bsso/protocol';
import browser from 'webextension-polyfill';
import { brokeredAddresses, readBroker, setBroker } from '../shared/broker.ts';
import { localizePage, t } from '../shared/i18n.ts';
import type { ResultFor } from '../shared/messages.ts';
import {
  addEmail,
  forgetConnectedSite,
  forgetSiteChoice,
  PREFERENCE_KEYS,
  readConnectedSites,
  readPreferences,
  removeEmail,
  setConfirmNewSites,
  setDefaultEmail,
} from '../shared/storage.ts';

const area = browser.storage.local;
const ALL_HOSTS = { origins: ['https://*/*'] };

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

function button(label: string, accessibleName: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.setAttribute('aria-label', accessibleName);
  b.addEventListener('click', onClick);
  return b;
}

function span(text: string, className: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

function setStatus(text: string, isError = false): void {
  const status = byId('email-status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

async function check(email: string, out: HTMLElement): Promise<void> {
  out.textContent = t('options_checking');
  const result = (await browser.runtime.sendMessage({
    type: 'options-to-background:discover',
    email,
  })) as ResultFor<'options-to-background:discover'>;
  const broker = await readBroker(area);
  out.textContent = !result.ok
    ? t('options_check_failed', result.message ?? result.code)
    : result.issuer === broker
      ? t('options_via_broker', result.issuer)
      : t('options_check_ok', result.issuer);
  out.classList.toggle('error', !result.ok);
}

async function renderEmails(): Promise<void> {
  const prefs = await readPreferences(area);
  const brokered = await brokeredAddresses(area, prefs.emails);
  const list = byId<HTMLUListElement>('email-list');
  byId('emails-empty').hidden = prefs.emails.length > 0;
  list.replaceChildren(
    ...prefs.emails.map((email) => {
      const li = document.createElement('li');
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'default-email';
      radio.id = `default-${email}`;
      radio.checked = prefs.defaultEmail === email;
      radio.addEventListener('change', () => void setDefaultEmail(area, email));
      const label = document.createElement('label');
      label.htmlFor = radio.id;
      label.className = 'grow';
      label.textContent = email;
      if (prefs.defaultEmail === email) label.append(' ', span(t('options_default'), 'issuer'));
      const broker = brokered.get(email);
      const result = span(broker === undefined ? '' : t('options_via_broker', broker), 'issuer');
      result.setAttribute('aria-live', 'polite');
      li.append(
        radio,
        label,
        button(t('options_check'), t('options_check_named', email), () => {
          void check(email, result);
        }),
        button(t('options_remove'), t('options_remove_named', email), () => {
          void removeEmail(area, email).then(() => setStatus(t('options_removed', email)));
        }),
        result,
      );
      return li;
    }),
    ...(prefs.emails.length > 1 ? [askEachTime(prefs.defaultEmail === null)] : []),
  );
}

/** The "no default" entry of the default-address group: new sites open the chooser. */
function askEachTime(checked: boolean): HTMLLIElement {
  const li = document.createElement('li');
  const radio = document.createElement('input');
  radio.type = 'radio';
  radio.name = 'default-email';
  radio.id = 'default-none';
  radio.checked = checked;
  radio.addEventListener('change', () => void setDefaultEmail(area, null));
  const label = document.createElement('label');
  label.htmlFor = radio.id;
  label.className = 'grow';
  label.textContent = t('options_ask');
  li.append(radio, label);
  return li;
}

async function renderChoices(): Promise<void> {
  const { siteChoices } = await readPreferences(area);
  const entries = Object.entries(siteChoices);
  byId('choices-empty').hidden = entries.length > 0;
  byId('site-choice-list').replaceChildren(
    ...entries.map(([site, email]) => {
      const li = document.createElement('li');
      li.append(
        span(site, 'site'),
        span(email, 'grow'),
        button(t('options_forget'), t('options_forget_choice_named', site), () => {
          void forgetSiteChoice(area, site);
        }),
      );
      return li;
    }),
  );
}

async function renderConnected(): Promise<void> {
  const sites = await readConnectedSites(area);
  byId('connected-empty').hidden = sites.length > 0;
  const format = new Intl.DateTimeFormat(browser.i18n.getUILanguage(), {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  byId('connected-list').replaceChildren(
    ...sites.map((c) => {
      const li = document.createElement('li');
      li.append(
        span(c.site, 'site'),
        span(c.email, 'grow'),
        span(format.format(c.time), 'issuer'),
        button(t('options_forget'), t('options_forget_connected_named', c.site), () => {
          void forgetConnectedSite(area, c.site, c.email);
        }),
      );
      return li;
    }),
  );
}

async function renderConfirmSetting(): Promise<void> {
  const { confirmNewSites } = await readPreferences(area);
  byId<HTMLInputElement>('confirm-new-sites').checked = confirmNewSites;
}

async function renderBroker(): Promise<void> {
  byId<HTMLInputElement>('broker-input').value = (await readBroker(area)) ?? '';
}

async function renderAll(): Promise<void> {
  await Promise.all([
    renderEmails(),
    renderChoices(),
    renderConfirmSetting(),
    renderConnected(),
    renderBroker(),
  ]);
}

/** Whether the host access is known granted; updated by renderAccess. */
let hostAccess = true;

/** Firefox grants MV3 host permissions only on request; offer the request when missing. */
async function renderAccess(): Promise<void> {
  hostAccess = await browser.permissions.contains(ALL_HOSTS).catch(() => true);
  byId('access-section').hidden = hostAccess;
}

/** Asks for host access inside the user's own gesture (adding an address), when missing. */
function requestAccessIfMissing(): void {
  if (hostAccess) return;
  void browser.permissions
    .request(ALL_HOSTS)
    .catch(() => false)
    .then(renderAccess);
}

function main(): void {
  localizePage();
  const input = byId<HTMLInputElement>('email-input');
  byId<HTMLFormElement>('add-form').addEventListener('submit', (event) => {
    event.preventDefault();
    requestAccessIfMissing();
    addEmail(area, input.value)
      .then((address) => {
        input.value = '';
        setStatus(t('options_added', address));
      })
      .catch((err: unknown) => {
        setStatus(err instanceof BssoError ? t('options_invalid_email') : String(err), true);
        input.focus();
      });
  });
  const brokerInput = byId<HTMLInputElement>('broker-input');
  byId<HTMLFormElement>('broker-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const status = byId('broker-status');
    setBroker(area, brokerInput.value)
      .then(async () => {
        const broker = await readBroker(area);
        status.textContent =
          broker === undefined ? t('options_broker_cleared') : t('options_broker_saved', broker);
        status.classList.remove('error');
        await renderAll();
      })
      .catch(() => {
        status.textContent = t('options_broker_invalid');
        status.classList.add('error');
        brokerInput.focus();
      });
  });
  const confirmBox = byId<HTMLInputElement>('confirm-new-sites');
  confirmBox.addEventListener('change', () => void setConfirmNewSites(area, confirmBox.checked));
  byId('grant-access').addEventListener('click', () => {
    hostAccess = false;
    requestAccessIfMissing();
  });
  browser.storage.onChanged.addListener((changes, areaName) => {
    if (areaName === 'local' && Object.keys(changes).some((k) => PREFERENCE_KEYS.includes(k))) {
      void renderAll();
    }
  });
  void renderAll();
  void renderAccess();
}

main();
