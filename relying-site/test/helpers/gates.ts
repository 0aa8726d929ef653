// Holding background work at a known point, so "no request before the answer" is checked
// without sleeps: a gate to open, and an association cache whose cross-instance lock a test
// can hold shut (whoever associates waits there).
import { createMemoryAssociationCache } from '../../src/core/memory-stores.ts';
import type { AssociationCache } from '../../src/core/stores.ts';

export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A memory association cache with the cross-instance lock, which a test can hold shut. */
export function lockableAssociations(now: () => number) {
  const inner = createMemoryAssociationCache(now);
  let held: Promise<void> | null = null;
  let locks = 0;
  const cache: AssociationCache = {
    get: (issuer) => inner.get(issuer),
    set: (issuer, record) => inner.set(issuer, record),
    delete: (issuer) => inner.delete(issuer),
    async lock() {
      locks++;
      if (held) await held;
      return async () => undefined;
    },
  };
  return {
    cache,
    hold(until: Promise<void>) {
      held = until;
    },
    locks: () => locks,
  };
}
