// The user's preferences in browser.storage.local, behind a minimal storage-area interface
// so tests use an in-memory area. Stored values are re-validated on every read.
import { parseEmail } from '@bsso/protocol';
import type { EmailPreferences } from './rules.ts';

/** The part of `browser.storage.StorageArea` this extension uses. */
export interface StorageAreaLike {
  get(keys: string | string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

interface ConnectedSite {
  email: string;
  /** The site's origin. */
  site: string;
  /** When the last assertion was issued for it, in ms since the epoch. */
  time: number;
}

const KEYS = {
  emails: 'emails',
  defaultEmail: 'defaultEmail',
  siteChoices: 'siteChoices',
  connected: 'connectedSites',
  confirmNewSites: 'confirmNewSites',
} as const;

interface Preferences extends EmailPreferences {
  /**
   * Ask before the first sign-in of an address at a site (protocol-spec.md#extension-processing).
   * On unless the user turned it off.
   */
  confirmNewSites: boolean;
}

const MAX_CONNECTED = 200;

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export async function readPreferences(area: StorageAreaLike): Promise<Preferences> {
  const got = await area.get([
    KEYS.emails,
    KEYS.defaultEmail,
    KEYS.siteChoices,
    KEYS.confirmNewSites,
  ]);
  const emails = stringList(got[KEYS.emails]);
  const def = got[KEYS.defaultEmail];
  return {
    emails,
    defaultEmail: typeof def === 'string' && emails.includes(def) ? def : null,
    siteChoices: stringRecord(got[KEYS.siteChoices]),
    // Only an explicit "off" turns it off.
    confirmNewSites: got[KEYS.confirmNewSites] !== false,
  };
}

/** Turns the confirmation before a first sign-in at a site on or off. */
export async function setConfirmNewSites(area: StorageAreaLike, on: boolean): Promise<void> {
  await area.set({ [KEYS.confirmNewSites]: on });
}

/** Adds a normalized address (throws `invalid_email`); the only address becomes the default. */
export async function addEmail(area: StorageAreaLike, input: string): Promise<string> {
  const address = parseEmail(input.trim()).address;
  const prefs = await readPreferences(area);
  const emails = prefs.emails.includes(address) ? [...prefs.emails] : [...prefs.emails, address];
  const defaultEmail = prefs.defaultEmail ?? (emails.length === 1 ? address : null);
  await area.set({ [KEYS.emails]: emails, [KEYS.defaultEmail]: defaultEmail });
  return address;
}

/** Removes an address with every per-site choice naming it; a sole survivor becomes default. */
export async function removeEmail(area: StorageAreaLike, address: string): Promise<void> {
  const prefs = await readPreferences(area);
  const emails = prefs.emails.filter((e) => e !== address);
  const siteChoices = Object.fromEntries(
    Object.entries(prefs.siteChoices).filter(([, e]) => e !== address),
  );
  let defaultEmail = prefs.defaultEmail === address ? null : prefs.defaultEmail;
  if (defaultEmail === null && emails.length === 1) defaultEmail = emails[0] ?? null;
  await area.set({
    [KEYS.emails]: emails,
    [KEYS.defaultEmail]: defaultEmail,
    [KEYS.siteChoices]: siteChoices,
  });
}

/** Sets the default address; null means "ask at each new site" (the chooser). */
export async function setDefaultEmail(
  area: StorageAreaLike,
  address: string | null,
): Promise<void> {
  const prefs = await readPreferences(area);
  if (address !== null && !prefs.emails.includes(address)) return;
  await area.set({ [KEYS.defaultEmail]: address });
}

export async function rememberSiteChoice(
  area: StorageAreaLike,
  site: string,
  address: string,
): Promise<void> {
  const prefs = await readPreferences(area);
  if (!prefs.emails.includes(address)) return;
  await area.set({ [KEYS.siteChoices]: { ...prefs.siteChoices, [site]: address } });
}

export async function forgetSiteChoice(area: StorageAreaLike, site: string): Promise<void> {
  const prefs = await readPreferences(area);
  const siteChoices = { ...prefs.siteChoices };
  delete siteChoices[site];
  await area.set({ [KEYS.siteChoices]: siteChoices });
}

export async function readConnectedSites(area: StorageAreaLike): Promise<ConnectedSite[]> {
  const got = await area.get(KEYS.connected);
  const list = got[KEYS.connected];
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c): c is ConnectedSite =>
      typeof c === 'object' &&
      c !== null &&
      typeof c.email === 'string' &&
      typeof c.site === 'string' &&
      typeof c.time === 'number',
  );
}

/** True when the address was already used at the site (a connected site). */
export async function isConnectedSite(
  area: StorageAreaLike,
  site: string,
  email: string,
): Promise<boolean> {
  return (await readConnectedSites(area)).some((c) => c.site === site && c.email === email);
}

/**
 * How stale the time of a connected site may get before a sign-in refreshes it: a sign-in at
 * a site the address used within the last hour writes nothing (the options page shows the
 * time of the last recorded use, so it is at most this much behind).
 */
export const CONNECTED_REFRESH_MS = 60 * 60 * 1000;

/**
 * Records that an address was used at a site (most recent first). A site already recorded
 * for the address is left as it is, unless its time is older than `refreshMs`: then it is
 * refreshed and moves to the front. So at most one write an hour per site and address.
 */
export async function recordConnectedSite(
  area: StorageAreaLike,
  entry: ConnectedSite,
  refreshMs = CONNECTED_REFRESH_MS,
): Promise<void> {
  const list = await readConnectedSites(area);
  const known = list.find((c) => c.site === entry.site && c.email === entry.email);
  if (known && entry.time - known.time < refreshMs && entry.time >= known.time) return;
  const others = list.filter((c) => c !== known);
  await area.set({ [KEYS.connected]: [entry, ...others].slice(0, MAX_CONNECTED) });
}

export async function forgetConnectedSite(
  area: StorageAreaLike,
  site: string,
  email: string,
): Promise<void> {
  const list = await readConnectedSites(area);
  await area.set({
    [KEYS.connected]: list.filter((c) => !(c.site === site && c.email === email)),
  });
}

/** Keys whose change means the options page should re-render. */
export const PREFERENCE_KEYS: readonly string[] = Object.values(KEYS);
