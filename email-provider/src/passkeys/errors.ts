// Typed refusals of the passkey ceremonies, each with a stable code. The pages map every one
// of them at sign-in to the one generic failure; the account page names a few.

export type PasskeyErrorCode =
  /** No ceremony state for this session or browser: expired, used before, or never made. */
  | 'ceremony_missing'
  /** The browser's answer is not a WebAuthn credential of the expected shape. */
  | 'invalid_response'
  /** The credential is not one of the account's passkeys. */
  | 'unknown_credential'
  /** The signature, challenge, origin, RP ID or flags did not verify. */
  | 'verification_failed'
  /** The authenticator's counter did not move on (a cloned key or a replayed answer). */
  | 'counter_replayed'
  /** The credential is registered already. */
  | 'passkey_exists'
  /** The account holds the most passkeys it may. */
  | 'too_many_passkeys';

export class PasskeyError extends Error {
  readonly code: PasskeyErrorCode;
  /** The account of a sign-in refused after its state was found (for the throttles). */
  account?: string;
  /** Whether that sign-in came from the extension's popup. */
  popup?: boolean;
  /** Where that sign-in was to go on to (the web flow), for the page asking again. */
  continue?: string;
  constructor(code: PasskeyErrorCode, message: string) {
    super(message);
    this.name = 'PasskeyError';
    this.code = code;
  }
}
