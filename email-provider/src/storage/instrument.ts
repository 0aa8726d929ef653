// Counts failed store calls (a database query or a Redis command that threw) without
// changing them: each method of each store is wrapped, the error goes on to the caller (the
// one error handler answers it) after `onError` has counted it.
import type { Limiters } from '../rate-limit.ts';
import type { Stores } from './types.ts';

export type StoreErrorReport = (store: string, operation: string) => void;

function wrap<T extends object>(store: string, target: T, onError: StoreErrorReport): T {
  const wrapped: Record<string, unknown> = {};
  for (const [operation, value] of Object.entries(target)) {
    wrapped[operation] =
      typeof value === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await value.apply(target, args);
            } catch (err) {
              onError(store, operation);
              throw err;
            }
          }
        : value;
  }
  return wrapped as T;
}

/** The same stores, each failure reported as (store, operation), e.g. ('sessions', 'find'). */
export function instrumentStores(stores: Stores, onError: StoreErrorReport): Stores {
  return {
    accounts: wrap('accounts', stores.accounts, onError),
    sessions: wrap('sessions', stores.sessions, onError),
    associations: wrap('associations', stores.associations, onError),
    usedAssertions: wrap('used_assertions', stores.usedAssertions, onError),
    issuedLog: wrap('issued_log', stores.issuedLog, onError),
    consents: wrap('consents', stores.consents, onError),
    passkeys: wrap('passkeys', stores.passkeys, onError),
    ceremonies: wrap('webauthn_ceremonies', stores.ceremonies, onError),
    check: () => stores.check(),
    close: () => stores.close(),
  };
}

/** The same limiters, each failure (a shared Redis limiter that did not answer) reported. */
export function instrumentLimiters(limiters: Limiters, onError: StoreErrorReport): Limiters {
  const out: Partial<Limiters> = {};
  for (const name of Object.keys(limiters) as (keyof Limiters)[]) {
    out[name] = wrap(`rate_limit_${name}`, limiters[name], onError);
  }
  return out as Limiters;
}
