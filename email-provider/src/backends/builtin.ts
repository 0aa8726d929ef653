// The builtin back-end: accounts in the provider's own store (SQLite or PostgreSQL), checked
// with scrypt by the account service (accounts.ts) and managed with the users CLI.
import type { AccountService } from '../accounts.ts';
import { INVALID, type PasswordBackend, unavailable } from './types.ts';

export function createBuiltinBackend(accounts: AccountService): PasswordBackend {
  return {
    kind: 'password',
    type: 'builtin',
    async check(email, password) {
      try {
        const account = await accounts.authenticate(email, password);
        return account ? { ok: true, email: account } : INVALID;
      } catch (err) {
        // The account store did not answer.
        return unavailable(err);
      }
    },
    async close() {},
  };
}
