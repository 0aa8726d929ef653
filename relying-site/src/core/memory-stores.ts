// In-memory stores: the default, for one process. Several site instances need a shared
// store instead, or a nonce could be consumed once per instance.
import type {
  AssociationCache,
  AssociationRecord,
  DiscoveryCache,
  DiscoveryRecord,
  NonceRecord,
  NonceStore,
  SessionRecord,
  SessionStore,
  SiteStores,
} from './stores.ts';

type Clock = () => number;

/** A map whose entries vanish at their `expiresAt`; swept lazily on writes. */
class ExpiringMap<V extends { expiresAt: number }> {
  readonly #entries = new Map<string, V>();
  readonly #now: Clock;
  #writes = 0;

  constructor(now: Clock) {
    this.#now = now;
  }

  get(key: string): V | null {
    const value = this.#entries.get(key);
    if (value === undefined) return null;
    if (value.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return null;
    }
    return value;
  }

  set(key: string, value: V): void {
    if (++this.#writes % 1000 === 0) this.#sweep();
    this.#entries.set(key, value);
  }

  take(key: string): V | null {
    const value = this.get(key);
    this.#entries.delete(key);
    return value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, value] of this.#entries) if (value.expiresAt <= now) this.#entries.delete(key);
  }
}

export function createMemoryNonceStore(now: Clock = Date.now): NonceStore {
  const map = new ExpiringMap<NonceRecord>(now);
  return {
    async put(nonce, record) {
      map.set(nonce, { ...record });
    },
    // Synchronous get-and-delete: no other caller can see the record in between.
    async consume(nonce) {
      return map.take(nonce);
    },
  };
}

export function createMemorySessionStore(now: Clock = Date.now): SessionStore {
  const map = new ExpiringMap<SessionRecord>(now);
  return {
    async create(id, record) {
      map.set(id, { ...record });
    },
    async get(id) {
      return map.get(id);
    },
    async destroy(id) {
      map.delete(id);
    },
  };
}

export function createMemoryAssociationCache(now: Clock = Date.now): AssociationCache {
  const map = new ExpiringMap<AssociationRecord>(now);
  return {
    async get(issuer) {
      return map.get(issuer);
    },
    async set(issuer, record) {
      map.set(issuer, record);
    },
    async delete(issuer) {
      map.delete(issuer);
    },
  };
}

export function createMemoryDiscoveryCache(now: Clock = Date.now): DiscoveryCache {
  const map = new ExpiringMap<DiscoveryRecord>(now);
  return {
    async get(domain) {
      return map.get(domain);
    },
    async set(domain, record) {
      map.set(domain, record);
    },
  };
}

export function createMemoryStores(now: Clock = Date.now): SiteStores {
  return {
    nonces: createMemoryNonceStore(now),
    sessions: createMemorySessionStore(now),
    associations: createMemoryAssociationCache(now),
    discovery: createMemoryDiscoveryCache(now),
  };
}
