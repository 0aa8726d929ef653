// Storage contracts of passkeys (WebAuthn), the built-in accounts' second factor
// (src/passkeys): the registered credentials, and the short-lived server-side state of a
// ceremony (its challenge, bound to a session or a browser), taken once.

export interface PasskeyRecord {
  /** The credential id as the authenticator made it, base64url. */
  id: string;
  /** The account (normalized address) it belongs to. */
  email: string;
  /** The COSE public key the authenticator sent at registration. */
  publicKey: Uint8Array;
  /** The authenticator's signature counter as last seen (0 for those that keep none). */
  counter: number;
  /** Transport hints from registration ('internal', 'usb', 'hybrid', …). */
  transports: string[];
  createdAt: number;
}

export interface PasskeyStore {
  /** Stores a new credential; false when its id is already registered (to any account). */
  insert(record: PasskeyRecord): Promise<boolean>;
  find(id: string): Promise<PasskeyRecord | undefined>;
  /** The account's credentials, oldest first. */
  listForAccount(email: string): Promise<PasskeyRecord[]>;
  /**
   * Moves the counter from `from` to `to` in one step; false when it is no longer `from` (a
   * parallel sign-in with the same authenticator data won the race).
   */
  updateCounter(id: string, from: number, to: number): Promise<boolean>;
  /** Removes one of the account's credentials; false when it has none with that id. */
  remove(email: string, id: string): Promise<boolean>;
  removeForAccount(email: string): Promise<number>;
}

/** Server-side state of one WebAuthn ceremony, found by a random key and used once. */
export interface CeremonyStore {
  /** Stores `value` under `key` until `expiresAt` (replaces an older value of that key). */
  put(key: string, value: string, expiresAt: number): Promise<void>;
  /** Removes the value in one step and returns it unless it expired by `now`; once only. */
  take(key: string, now: number): Promise<string | undefined>;
  /** Deletes states whose expiry is at or before `now`. */
  removeExpired(now: number): Promise<number>;
}
