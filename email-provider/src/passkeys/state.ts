// The server-side state of a ceremony (its challenge and what it is for), kept in the
// ceremony store under a key bound to who started it, for a short time, and taken once:
// - registration: keyed by the session (its stored id hash), so only that session finishes it;
// - sign-in: keyed by the hash of a random id held in the browser's __Host- cookie, so only
//   that browser finishes it, and a leaked store row does not hand out the cookie.
import { createHash } from 'node:crypto';
import type { CeremonyStore } from '../storage/types.ts';
import { PasskeyError } from './errors.ts';

/** How long a ceremony may take, from options to the browser's answer. */
export const CEREMONY_MS = 5 * 60_000;

export interface RegistrationState {
  kind: 'registration';
  email: string;
  challenge: string;
}

export interface SigninState {
  kind: 'signin';
  /**
   * The account whose password was right (the second factor); absent for a sign-in with a
   * passkey alone, where the passkey names the account and must have verified the user.
   */
  email?: string;
  challenge: string;
  /** Where the sign-in goes on after the second factor (pages/signin.ts). */
  popup: boolean;
  continue?: string;
}

type State = RegistrationState | SigninState;

export function registrationKey(sessionIdHash: string): string {
  return `registration:${sessionIdHash}`;
}

export function signinKey(browserId: string): string {
  return `signin:${createHash('sha256').update(browserId).digest('base64url')}`;
}

export async function putState(
  store: CeremonyStore,
  key: string,
  state: State,
  now: number,
): Promise<void> {
  await store.put(key, JSON.stringify(state), now + CEREMONY_MS);
}

/** Takes the state of `kind` under `key` (once), or ceremony_missing. */
export async function takeState<K extends State['kind']>(
  store: CeremonyStore,
  key: string,
  kind: K,
  now: number,
): Promise<Extract<State, { kind: K }>> {
  const value = await store.take(key, now);
  const state = value === undefined ? undefined : (JSON.parse(value) as State);
  if (state?.kind !== kind) {
    throw new PasskeyError('ceremony_missing', 'No passkey ceremony is waiting here; start again.');
  }
  return state as Extract<State, { kind: K }>;
}
