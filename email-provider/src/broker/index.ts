// Broker mode of the provider (protocol-spec.md#fallback): serves addresses of any domain
// whose own discovery names no provider, proving control of the address by a mailed code.
import { parseEmail } from '@bsso/protocol';
import type { Router } from 'express';
import type { SessionManager } from '../http/sessions.ts';
import type { Logger } from '../log.ts';
import { type Authority, createAuthority } from './authority.ts';
import { createBridges } from './bridges.ts';
import { createCodeStore } from './codes.ts';
import { createMailer } from './mailer.ts';
import type { ResolvedBrokerOptions } from './options.ts';
import { brokerRouter } from './router.ts';

export type { BrokerOptions, ResolvedBrokerOptions } from './options.ts';
export { resolveBrokerOptions } from './options.ts';

export interface Broker {
  /** Whether the broker serves addresses of `domain` (its discovery names no provider). */
  serves(domain: string): Promise<boolean>;
  /** serves() for an address's domain; false for a malformed address (checked elsewhere). */
  servesAddress(address: string): Promise<boolean>;
  readonly authority: Authority;
  readonly router: Router;
  close(): Promise<void>;
}

export function createBroker(
  options: ResolvedBrokerOptions,
  deps: { sessions: SessionManager; logger: Logger; now: () => number; issuer: string },
): Broker {
  const authority = createAuthority(options, deps.now);
  const serves = async (domain: string) => (await authority.check(domain)) === 'no_provider';
  const mailer = createMailer(options);
  const bridges = createBridges(options.bridges, deps.issuer);
  const router = brokerRouter({
    options,
    authority,
    mailer,
    codes: createCodeStore(),
    bridges,
    ...deps,
  });
  return {
    serves,
    async servesAddress(address) {
      let domain: string;
      try {
        domain = parseEmail(address).domain;
      } catch {
        return false;
      }
      return serves(domain);
    },
    authority,
    router,
    async close() {
      mailer.close();
      for (const bridge of bridges.values()) await bridge.upstream.close();
      await authority.close();
    },
  };
}
