// The paths of the passkey pages (pages/passkeys.ts), also known to the metrics.
export const passkeyPaths = {
  /** POST: the registration page (options bound to the session). */
  add: '/account/passkeys/new',
  /** POST: the browser's answer to the registration. */
  register: '/account/passkeys',
  /** POST: removes one of the account's passkeys. */
  remove: '/account/passkeys/remove',
  /** POST: starts a sign-in with a passkey alone (the sign-in page's passkey button). */
  signinStart: '/signin/passkey/start',
  /** POST: the passkey's answer (second factor or alone); a session on success. */
  signin: '/signin/passkey',
} as const;
