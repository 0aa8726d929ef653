// The site's associations (protocol-spec.md#association): created on demand, cached per
// issuer, renewed before expiry, one request per issuer however many challenges race. The
// site keeps each for at most a day, whatever the provider asks (threat 49), and offers only
// a handle its cache actually holds. Renewal runs in the background: a challenge that finds a
// live association answers with it at once and never waits for the provider (issue 17); only
// a challenge with no usable association waits for the first one.
import { BssoError, type ProviderConfig, parseAssociationAnswer } from '@bsso/protocol';
import type { Outbound } from './outbound.ts';
import type { AssociationCache, AssociationKey, AssociationRecord } from './stores.ts';

export interface Associations {
  /**
   * A usable association with the provider; null if none. A live one is returned at once (its
   * renewal, when due, starts in the background); only when there is none does this wait for
   * a new one.
   */
  current(config: ProviderConfig): Promise<AssociationRecord | null>;
  /** The live key for `handle` with `issuer`; throws unknown_association / association_expired. */
  keyFor(issuer: string, handle: string): Promise<AssociationKey>;
  /** Forgets `handle` (the provider invalidated it). */
  purge(issuer: string, handle: string): Promise<void>;
  /** Resolves when no background renewal is running (tests, graceful shutdown). */
  settled(): Promise<void>;
}

/** Renew when less than 10% of the lifetime or less than 60 s are left. */
export function needsRenewal(key: AssociationKey, now: number): boolean {
  const left = key.expiresAt - now;
  return left < 60_000 || left < (key.expiresAt - key.createdAt) / 10;
}

/**
 * The longest the site keeps an association, whatever `expires_in` the provider answers
 * (protocol-spec.md#site-processing): an attacker's provider naming many domains cannot make
 * the site hold its records for a week.
 */
export const SITE_MAX_ASSOCIATION_LIFETIME_SECONDS = 86_400;

/** How long one instance may take to associate before another may try. */
const LOCK_MS = 10_000;
const LOCK_POLL_MS = 20;

export function createAssociations(
  cache: AssociationCache,
  outbound: Outbound,
  siteOrigin: string,
  now: () => number,
): Associations {
  const inFlight = new Map<string, Promise<AssociationRecord>>();
  const unexpired = (r: AssociationRecord | null) => (r && r.expiresAt > now() ? r : null);

  async function create(
    config: ProviderConfig,
    old: AssociationRecord | null,
  ): Promise<AssociationRecord> {
    const answer = await outbound.postJson(config.association_endpoint, { site: siteOrigin });
    if (answer.status !== 200) {
      throw new BssoError('provider_error', `The association request answered ${answer.status}.`);
    }
    const { handle, secret, expiresIn } = parseAssociationAnswer(answer.body);
    const createdAt = now();
    // Another instance sharing the cache may have associated meanwhile: adopt its key and
    // drop ours (never handed out), so every handle a challenge names stays verifiable.
    const latest = await cache.get(config.issuer);
    if (latest && latest.handle !== old?.handle && !needsRenewal(latest, createdAt)) {
      return latest;
    }
    const lifetime = Math.min(expiresIn, SITE_MAX_ASSOCIATION_LIFETIME_SECONDS);
    const record: AssociationRecord = {
      issuer: config.issuer,
      handle,
      secret,
      createdAt,
      expiresAt: createdAt + lifetime * 1000,
    };
    // Assertions signed with the key being replaced may still be on their way.
    if (old && old.expiresAt > createdAt) {
      record.previous = {
        handle: old.handle,
        secret: old.secret,
        createdAt: old.createdAt,
        expiresAt: old.expiresAt,
      };
    }
    await cache.set(config.issuer, record);
    // A full cache may keep its records in use instead: never offer a handle it cannot
    // verify (the sign-in then verifies directly).
    if ((await cache.get(config.issuer))?.handle !== handle) {
      throw new BssoError('server_error', 'The association cache is full.');
    }
    return record;
  }

  // Several instances sharing the cache: one associates under the cache's lock; the others
  // keep using a live association meanwhile, or wait for the one being made.
  async function createShared(
    config: ProviderConfig,
    old: AssociationRecord | null,
  ): Promise<AssociationRecord> {
    if (!cache.lock) return create(config, old);
    const deadline = Date.now() + LOCK_MS;
    for (;;) {
      const release = await cache.lock(config.issuer, LOCK_MS);
      if (release) {
        try {
          const fresh = unexpired(await cache.get(config.issuer));
          if (fresh && !needsRenewal(fresh, now())) return fresh;
          return await create(config, fresh ?? old);
        } finally {
          await release().catch(() => undefined);
        }
      }
      if (old) return old;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      const made = unexpired(await cache.get(config.issuer));
      if (made) return made;
      if (Date.now() > deadline) {
        throw new BssoError('provider_unavailable', 'Another instance is still associating.');
      }
    }
  }

  // One association request per issuer in flight, in the foreground or the background.
  function associate(config: ProviderConfig, live: AssociationRecord | null) {
    let pending = inFlight.get(config.issuer);
    if (!pending) {
      pending = createShared(config, live).finally(() => inFlight.delete(config.issuer));
      inFlight.set(config.issuer, pending);
    }
    return pending;
  }

  // Renewals off the sign-in path. A failure changes nothing: the live key stays until it
  // expires, and a later challenge in the renewal window tries again.
  const background = new Set<Promise<unknown>>();
  function renewInBackground(config: ProviderConfig, live: AssociationRecord): void {
    if (inFlight.has(config.issuer)) return;
    const renewal: Promise<void> = associate(config, live)
      .then(
        () => undefined,
        (err: unknown) => logRenewalFailure(err),
      )
      .finally(() => background.delete(renewal));
    background.add(renewal);
  }

  return {
    async current(config) {
      const t = now();
      const cached = await cache.get(config.issuer);
      const live = cached && cached.expiresAt > t ? cached : null;
      if (live) {
        if (needsRenewal(live, t)) renewInBackground(config, live);
        return live;
      }
      try {
        // The first association (or the last one expired): this challenge waits for it.
        return unexpired(await associate(config, null));
      } catch {
        // No association: the sign-in verifies directly.
        return null;
      }
    },

    async settled() {
      while (background.size > 0) await Promise.all(background);
    },

    async keyFor(issuer, handle) {
      const record = await cache.get(issuer);
      const key =
        record?.handle === handle
          ? record
          : record?.previous?.handle === handle
            ? record.previous
            : null;
      if (!key) throw new BssoError('unknown_association', 'The association handle is unknown.');
      if (key.expiresAt <= now()) throw new BssoError('association_expired');
      return key;
    },

    async purge(issuer, handle) {
      const record = await cache.get(issuer);
      if (!record) return;
      if (record.handle === handle) {
        await cache.delete(issuer);
      } else if (record.previous?.handle === handle) {
        const { previous: _dropped, ...rest } = record;
        await cache.set(issuer, rest);
      }
    },
  };
}

// Codes only (a message may name the provider's host); a provider fault is expected here.
function logRenewalFailure(err: unknown): void {
  if (!(err instanceof BssoError)) {
    console.error('bsso: association renewal failed', (err as Error)?.name);
  }
}
