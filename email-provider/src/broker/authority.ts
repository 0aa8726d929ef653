// Which addresses the broker may serve (protocol-spec.md#fallback, duty 1): only those whose
// domain's own discovery, run by the broker through the public-network guard, answered that
// it names no provider. A domain naming a provider is refused; a failure is reported as such
// and never counts as "no provider". Answers are cached per domain, failures are not.
// Look-ups of one domain share one request, and at most `discoveryConcurrency` run at once
// (more fail at once as 'failed'), so a flood naming unknown domains stays bounded.
import { BssoError, DOMAIN_PROBE_LOCAL_PART, discoverProvider } from '@bsso/protocol';
import { createPublicFetch } from '@bsso/protocol/public-network';
import type { ResolvedBrokerOptions } from './options.ts';

export type DomainAnswer = 'no_provider' | 'has_provider' | 'failed';

export interface Authority {
  check(domain: string): Promise<DomainAnswer>;
  close(): Promise<void>;
}

const CACHE_MS = 3_600_000;
const MAX_DOMAINS = 10_000;

export function createAuthority(options: ResolvedBrokerOptions, now: () => number): Authority {
  const fetch = createPublicFetch(options.network);
  const cache = new Map<string, { answer: DomainAnswer; until: number }>();
  const inFlight = new Map<string, Promise<DomainAnswer>>();

  async function lookUp(domain: string): Promise<DomainAnswer> {
    let answer: DomainAnswer;
    try {
      await discoverProvider(`${DOMAIN_PROBE_LOCAL_PART}@${domain}`, {
        fetch,
        timeoutMs: options.discoveryTimeoutMs,
        checkHostNames: false,
      });
      answer = 'has_provider';
    } catch (err) {
      if (!(err instanceof BssoError) || err.code !== 'no_provider') return 'failed';
      answer = 'no_provider';
    }
    cache.delete(domain);
    cache.set(domain, { answer, until: now() + CACHE_MS });
    while (cache.size > MAX_DOMAINS) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return answer;
  }

  return {
    async check(domain) {
      const cached = cache.get(domain);
      if (cached && cached.until > now()) return cached.answer;
      let pending = inFlight.get(domain);
      if (!pending) {
        if (inFlight.size >= options.discoveryConcurrency) return 'failed';
        pending = lookUp(domain).finally(() => inFlight.delete(domain));
        inFlight.set(domain, pending);
      }
      return pending;
    },
    close: () => fetch.close(),
  };
}
