// Account management over the account store: validation, hashing, and the password check
// used by sign-in. Shared by createProvider and the users CLI.
import { BssoError, parseEmail } from '@bsso/protocol';
import {
  createPasswordChecker,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
} from './passwords.ts';
import type { Stores } from './storage/types.ts';

export interface AccountService {
  create(email: string, password: string): Promise<void>;
  remove(email: string): Promise<boolean>;
  list(): Promise<string[]>;
  setPassword(email: string, password: string): Promise<void>;
  /** The normalized address when the password is right; undefined for every failure. */
  authenticate(email: string, password: string): Promise<string | undefined>;
}

export interface AccountServiceOptions {
  stores: Pick<Stores, 'accounts' | 'sessions' | 'issuedLog' | 'consents' | 'passkeys'>;
  /** Domains accounts may be created in; undefined skips the check (CLI without config). */
  domains: ReadonlySet<string> | undefined;
  now: () => number;
}

function checkNewPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw new BssoError(
      'invalid_request',
      `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`,
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new BssoError('invalid_request', 'The password is too long.');
  }
  return password;
}

export function createAccountService(options: AccountServiceOptions): AccountService {
  const { stores, domains, now } = options;
  const checkPassword = createPasswordChecker();
  const address = (email: string): string => {
    const parsed = parseEmail(email);
    if (domains && !domains.has(parsed.domain)) {
      throw new BssoError('unknown_domain', `This provider does not serve ${parsed.domain}.`);
    }
    return parsed.address;
  };
  return {
    async create(email, password) {
      const normalized = address(email);
      const hash = await hashPassword(checkNewPassword(password));
      const at = now();
      const created = await stores.accounts.insert({
        email: normalized,
        passwordHash: hash,
        createdAt: at,
        updatedAt: at,
      });
      if (!created) throw new BssoError('invalid_request', `${normalized} already has an account.`);
    },
    async remove(email) {
      const normalized = parseEmail(email).address;
      await stores.sessions.removeForAccount(normalized);
      await stores.issuedLog.removeForAccount(normalized);
      await stores.consents.removeForAccount(normalized);
      await stores.passkeys.removeForAccount(normalized);
      return stores.accounts.remove(normalized);
    },
    list: () => stores.accounts.list(),
    async setPassword(email, password) {
      const normalized = parseEmail(email).address;
      const hash = await hashPassword(checkNewPassword(password));
      if (!(await stores.accounts.updatePassword(normalized, hash, now()))) {
        throw new BssoError('invalid_request', `${normalized} has no account.`);
      }
      // A new password ends every existing session of the account.
      await stores.sessions.removeForAccount(normalized);
    },
    async authenticate(email, password) {
      let normalized: string | undefined;
      try {
        normalized = address(email);
      } catch {
        normalized = undefined;
      }
      const valid = typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH;
      const record = normalized && valid ? await stores.accounts.find(normalized) : undefined;
      // Always one scrypt run, whatever failed, so timing does not tell accounts apart.
      const ok = await checkPassword(valid ? password : '', record?.passwordHash);
      return ok && record ? record.email : undefined;
    },
  };
}
