// The one contract of account back-ends that check a password (builtin, IMAP, LDAP). Every
// back-end gives the same three answers, so the sign-in page treats them alike
// (protocol-spec.md#provider-processing, Sign-in page): the same form, throttling and
// generic message whoever answers.
import { type EmailAddress, parseEmail } from '@bsso/protocol';
import { MAX_PASSWORD_LENGTH } from '../passwords.ts';

/** What a password check found. */
export type PasswordCheckResult =
  /** The credentials are right: the normalized address to start a session for. */
  | { ok: true; email: string }
  /**
   * Wrong password, unknown user, address not served or not valid: one answer for all of
   * them, so nobody learns which accounts exist.
   */
  | { ok: false; code: 'invalid_credentials' }
  /** The back-end did not answer in time or at all: nobody is signed in, try again later. */
  | { ok: false; code: 'backend_unavailable'; reason?: string };

export interface PasswordBackend {
  readonly kind: 'password';
  /** 'builtin', 'imap' or 'ldap', for logs and messages. */
  readonly type: string;
  /** Checks the credentials within the back-end's time budget; never throws. */
  check(email: string, password: string): Promise<PasswordCheckResult>;
  close(): Promise<void>;
}

export const INVALID: PasswordCheckResult = { ok: false, code: 'invalid_credentials' };
/** backend_unavailable with the error's class name (or 'timeout') for the operator's log. */
export function unavailable(err: unknown): PasswordCheckResult {
  const reason =
    err instanceof Error ? `${err.name}${'code' in err ? ` ${String(err.code)}` : ''}` : 'error';
  return { ok: false, code: 'backend_unavailable', reason };
}

/**
 * Runs `work` with a time budget: when it is spent, `onTimeout` cleans up (closes the
 * connection) and the result is backend_unavailable ('timeout'), whatever `work` does later.
 */
export async function withBudget(
  ms: number,
  work: () => Promise<PasswordCheckResult>,
  onTimeout: () => void,
): Promise<PasswordCheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<PasswordCheckResult>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve({ ok: false, code: 'backend_unavailable', reason: 'timeout' });
    }, ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The parsed address when it is one the provider serves and the password could be one: a
 * non-empty string of at most MAX_PASSWORD_LENGTH characters. An empty password is never
 * sent to a back-end (an LDAP simple bind with an empty password is an anonymous bind, which
 * servers answer with success). Undefined means: answer INVALID without asking anyone.
 */
export function acceptableCredentials(
  email: string,
  password: string,
  domains: ReadonlySet<string>,
): EmailAddress | undefined {
  if (typeof password !== 'string' || password === '' || password.length > MAX_PASSWORD_LENGTH) {
    return undefined;
  }
  try {
    const parsed = parseEmail(email);
    return domains.has(parsed.domain) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
