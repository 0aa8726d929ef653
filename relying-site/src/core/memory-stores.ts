// In-memory stores: the default, for one process. Several site instances need a shared
// store instead, or a nonce could be consumed once per instance. Every map an attacker can
// grow (nonces per challenge, associations and discovery records per domain it names,
// sessions per sign-in through a provider of its own) has a count cap, so memory stays
// bounded under a flood (protocol-spec.md#site-processing, threat 49).
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

export interface MemoryCapacity {
  /** Records kept at most; at the cap a new one pushes out the least recently used. */
  maxEntries?: number;
}

export interface MemoryAssociationCapacity extends MemoryCapacity {
  /**
   * A record used (offered in a challenge, or verified with) within this many ms is never
   * pushed out: an assertion signed with its key may be on its way. When every record is
   * that recent, a new one is not stored, and the site verifies that provider's assertions
   * directly. Default 360000 (the nonce lifetime plus the clock skew).
   */
  keepUsedWithinMs?: number;
}

/** Defaults of the caps (records per store). */
export const memoryCapacity = {
  nonces: 100_000,
  sessions: 100_000,
  associations: 1_000,
  discovery: 10_000,
  associationKeepUsedWithinMs: 360_000,
} as const;

/**
 * A map whose entries vanish at their `expiresAt` (never returned after it, and swept lazily
 * on writes: one pass over the map per `max(1000, size)` writes, so a write costs the same at
 * any size), kept in order of last use, with at most `maxEntries` entries.
 */
class ExpiringMap<V extends { expiresAt: number }> {
  readonly #entries = new Map<string, { value: V; usedAt: number }>();
  readonly #now: Clock;
  readonly #max: number;
  readonly #keepUsedWithinMs: number;
  #writes = 0;

  constructor(now: Clock, maxEntries = Number.POSITIVE_INFINITY, keepUsedWithinMs = 0) {
    if (!(maxEntries >= 1) || !(keepUsedWithinMs >= 0)) {
      throw new TypeError('maxEntries must be at least 1 and keepUsedWithinMs not negative.');
    }
    this.#now = now;
    this.#max = maxEntries;
    this.#keepUsedWithinMs = keepUsedWithinMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    const now = this.#now();
    if (entry.value.expiresAt <= now) {
      this.#entries.delete(key);
      return null;
    }
    // Most recently used last: the first entry is the one to push out.
    entry.usedAt = now;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`; false when the map is full of entries too recent to push out. */
  set(key: string, value: V): boolean {
    const now = this.#now();
    if (++this.#writes >= Math.max(1000, this.#entries.size)) {
      this.#writes = 0;
      this.#sweep(now);
    }
    if (!this.#entries.delete(key) && this.#entries.size >= this.#max && !this.#pushOut(now)) {
      return false;
    }
    this.#entries.set(key, { value, usedAt: now });
    return true;
  }

  /** The unexpired value of `key`, removed in the same step. */
  take(key: string): V | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    this.#entries.delete(key);
    return entry.value.expiresAt <= this.#now() ? null : entry.value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Frees one place: the least recently used entry, unless it is still in use. */
  #pushOut(now: number): boolean {
    const first = this.#entries.entries().next();
    if (first.done) return true;
    const [key, { value, usedAt }] = first.value;
    if (value.expiresAt > now && usedAt > now - this.#keepUsedWithinMs) return false;
    this.#entries.delete(key);
    return true;
  }

  #sweep(now: number): void {
    for (const [key, { value }] of this.#entries) {
      if (value.expiresAt <= now) this.#entries.delete(key);
    }
  }
}

/** A store that can say how many records it holds (tests and monitoring). */
export interface Counted {
  readonly size: number;
}

/**
 * Nonces, at most `maxEntries` (default 100000): at the cap the oldest challenge is dropped.
 * Dropping the oldest rather than refusing new challenges keeps honest sign-ins working
 * during a flood: refusing would let a flood fill the store once and then deny every
 * challenge for a nonce lifetime, while dropping forces the attacker to make more than
 * `maxEntries` challenges in the seconds one honest sign-in takes.
 */
export function createMemoryNonceStore(
  now: Clock = Date.now,
  capacity: MemoryCapacity = {},
): NonceStore & Counted {
  const map = new ExpiringMap<NonceRecord>(now, capacity.maxEntries ?? memoryCapacity.nonces);
  return {
    get size() {
      return map.size;
    },
    async put(nonce, record) {
      map.set(nonce, { ...record });
    },
    // Synchronous get-and-delete: no other caller can see the record in between.
    async consume(nonce) {
      return map.take(nonce);
    },
    // Synchronous check-and-set. A used page nonce shares the cap: at the cap the oldest
    // record goes, and a dropped one could be used again only with a still-unexpired
    // assertion for it from the same browser.
    async claim(nonce, expiresAt) {
      const key = `used:${nonce}`;
      if (map.get(key) !== null) return false;
      map.set(key, { browserId: '', expiresAt });
      return true;
    },
  };
}

/**
 * Sessions, at most `maxEntries` (default 100000): at the cap the least recently used session
 * ends. Sites with more signed-in users than that use a shared store (Redis).
 */
export function createMemorySessionStore(
  now: Clock = Date.now,
  capacity: MemoryCapacity = {},
): SessionStore & Counted {
  const map = new ExpiringMap<SessionRecord>(now, capacity.maxEntries ?? memoryCapacity.sessions);
  return {
    get size() {
      return map.size;
    },
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

/**
 * Associations per issuer, at most `maxEntries` (default 1000): at the cap the least recently
 * used one goes, unless it is still in use (`keepUsedWithinMs`); then the new one is not
 * stored and the site verifies that provider's assertions directly.
 */
export function createMemoryAssociationCache(
  now: Clock = Date.now,
  capacity: MemoryAssociationCapacity = {},
): AssociationCache & Counted {
  const map = new ExpiringMap<AssociationRecord>(
    now,
    capacity.maxEntries ?? memoryCapacity.associations,
    capacity.keepUsedWithinMs ?? memoryCapacity.associationKeepUsedWithinMs,
  );
  return {
    get size() {
      return map.size;
    },
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

/** Discovery results per domain, at most `maxEntries` (default 10000), least recently used out. */
export function createMemoryDiscoveryCache(
  now: Clock = Date.now,
  capacity: MemoryCapacity = {},
): DiscoveryCache & Counted {
  const map = new ExpiringMap<DiscoveryRecord>(
    now,
    capacity.maxEntries ?? memoryCapacity.discovery,
  );
  return {
    get size() {
      return map.size;
    },
    async get(domain) {
      return map.get(domain);
    },
    async set(domain, record) {
      map.set(domain, record);
    },
  };
}

/** Every store in memory, with the default caps unless `capacity` names others. */
export function createMemoryStores(
  now: Clock = Date.now,
  capacity: {
    nonces?: MemoryCapacity;
    sessions?: MemoryCapacity;
    associations?: MemoryAssociationCapacity;
    discovery?: MemoryCapacity;
  } = {},
): SiteStores {
  return {
    nonces: createMemoryNonceStore(now, capacity.nonces),
    sessions: createMemorySessionStore(now, capacity.sessions),
    associations: createMemoryAssociationCache(now, capacity.associations),
    discovery: createMemoryDiscoveryCache(now, capacity.discovery),
  };
}
