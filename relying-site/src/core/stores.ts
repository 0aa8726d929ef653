// Storage adapters of a relying site. Every record carries its own expiry (ms since the
// epoch); an adapter never returns an expired record. Memory versions: memory-stores.ts.
// A shared store (Redis) makes replay protection hold across site instances.
import type { ProviderConfig } from '@bsso/protocol';

/** A challenge nonce, bound to the browser that asked for it. */
export interface NonceRecord {
  browserId: string;
  expiresAt: number;
}

export interface NonceStore {
  put(nonce: string, record: NonceRecord): Promise<void>;
  /** Returns the record and deletes it in one atomic step: a nonce is consumed at most once. */
  consume(nonce: string): Promise<NonceRecord | null>;
  /**
   * Records a page nonce as used until `expiresAt`, in one atomic step: true the first time,
   * false ever after (protocol-spec.md#page-challenge). A store without it offers no page
   * challenges.
   */
  claim?(nonce: string, expiresAt: number): Promise<boolean>;
}

export interface SessionRecord {
  email: string;
  createdAt: number;
  expiresAt: number;
}

export interface SessionStore {
  create(id: string, record: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | null>;
  destroy(id: string): Promise<void>;
}

/** One association key shared with a provider. */
export interface AssociationKey {
  handle: string;
  secret: Uint8Array;
  createdAt: number;
  expiresAt: number;
}

/** The site's association with one issuer; `previous` stays usable after a renewal. */
export interface AssociationRecord extends AssociationKey {
  issuer: string;
  previous?: AssociationKey;
}

export interface AssociationCache {
  get(issuer: string): Promise<AssociationRecord | null>;
  set(issuer: string, record: AssociationRecord): Promise<void>;
  delete(issuer: string): Promise<void>;
  /**
   * Optional, for caches shared by several instances: a short lock on associating with
   * `issuer`. Resolves to its release, or null while another instance holds it.
   */
  lock?(issuer: string, ttlMs: number): Promise<(() => Promise<void>) | null>;
}

export interface DiscoveryRecord {
  config: ProviderConfig;
  expiresAt: number;
}

export interface DiscoveryCache {
  get(domain: string): Promise<DiscoveryRecord | null>;
  set(domain: string, record: DiscoveryRecord): Promise<void>;
}

export interface SiteStores {
  nonces: NonceStore;
  sessions: SessionStore;
  associations: AssociationCache;
  discovery: DiscoveryCache;
}
