// Storage contracts. Each store is a small async interface so that SQLite (the default) can be
// swapped for PostgreSQL or Redis later without touching the endpoints. Times are ms.
import type { CeremonyStore, PasskeyStore } from './passkey-types.ts';

export type { CeremonyStore, PasskeyRecord, PasskeyStore } from './passkey-types.ts';

export interface AccountRecord {
  /** Normalized email address (lower case). */
  email: string;
  /** Encoded password hash (see passwords.ts). */
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
}

export interface AccountStore {
  /** Inserts a new account; false when the address already has one. */
  insert(record: AccountRecord): Promise<boolean>;
  find(email: string): Promise<AccountRecord | undefined>;
  updatePassword(email: string, passwordHash: string, at: number): Promise<boolean>;
  remove(email: string): Promise<boolean>;
  list(): Promise<string[]>;
}

export interface SessionRecord {
  /** SHA-256 of the cookie value: a database leak does not hand out live sessions. */
  idHash: string;
  email: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionStore {
  insert(record: SessionRecord): Promise<void>;
  find(idHash: string): Promise<SessionRecord | undefined>;
  touch(idHash: string, at: number): Promise<void>;
  remove(idHash: string): Promise<void>;
  /** The account's sessions, most recently seen first (the users CLI's `sessions`). */
  listForAccount(email: string): Promise<SessionRecord[]>;
  removeForAccount(email: string): Promise<number>;
  /** Removes sessions idle since before `idleCutoff` or created before `absoluteCutoff`. */
  removeExpired(idleCutoff: number, absoluteCutoff: number): Promise<number>;
}

export interface AssociationRecord {
  handle: string;
  secret: Uint8Array;
  /** The site origin the association is bound to. */
  site: string;
  createdAt: number;
  expiresAt: number;
  invalidated: boolean;
}

export interface AssociationStore {
  insert(record: AssociationRecord): Promise<void>;
  find(handle: string): Promise<AssociationRecord | undefined>;
  invalidate(handle: string): Promise<boolean>;
  /** Deletes associations whose expiry is at or before `now`. */
  removeExpired(now: number): Promise<number>;
}

export interface UsedAssertionStore {
  /** Records a jti atomically; true on its first use, false when it was used before. */
  markUsed(jti: string, keepUntil: number): Promise<boolean>;
  removeExpired(now: number): Promise<number>;
}

export interface IssuedAssertionEntry {
  email: string;
  /** Origin of the assertion's audience: the site the user signed in to. */
  siteOrigin: string;
  issuedAt: number;
}

export interface SiteActivity {
  siteOrigin: string;
  lastIssuedAt: number;
  count: number;
}

export interface IssuedAssertionLog {
  record(entry: IssuedAssertionEntry): Promise<void>;
  /** Records several entries in one transaction (one statement): all of them or none. */
  recordMany(entries: readonly IssuedAssertionEntry[]): Promise<void>;
  /** Sites the account signed in to since `since`, most recent first. */
  recentSites(email: string, since: number, limit: number): Promise<SiteActivity[]>;
  removeForAccount(email: string): Promise<number>;
  removeOlderThan(cutoff: number): Promise<number>;
}

export interface ConsentRecord {
  email: string;
  /** The site origin the account agreed to sign in to (protocol-spec.md#web-flow). */
  siteOrigin: string;
  grantedAt: number;
}

/** Agreements of the web flow's consent step, per account and site origin. */
export interface ConsentStore {
  /** Records (or renews) the agreement of `email` for `siteOrigin`. */
  grant(record: ConsentRecord): Promise<void>;
  has(email: string, siteOrigin: string): Promise<boolean>;
  /** The account's agreements, most recent first. */
  list(email: string): Promise<ConsentRecord[]>;
  /** Withdraws one agreement; false when there was none. */
  revoke(email: string, siteOrigin: string): Promise<boolean>;
  removeForAccount(email: string): Promise<number>;
}

/** One back-end store's answer to a readiness check (/readyz); never carries a secret. */
export interface StoreCheck {
  store: 'sqlite' | 'postgresql' | 'redis';
  ok: boolean;
}

export interface Stores {
  accounts: AccountStore;
  sessions: SessionStore;
  associations: AssociationStore;
  usedAssertions: UsedAssertionStore;
  issuedLog: IssuedAssertionLog;
  consents: ConsentStore;
  /** Passkeys of built-in accounts (src/passkeys). */
  passkeys: PasskeyStore;
  /** State of WebAuthn ceremonies in progress, each taken once. */
  ceremonies: CeremonyStore;
  /** Asks each back-end store for a trivial answer (a query, a ping); never throws. */
  check(): Promise<StoreCheck[]>;
  close(): Promise<void>;
}
