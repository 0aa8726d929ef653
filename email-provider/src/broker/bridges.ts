// Bridging (protocol-spec.md#fallback, duty 2): for a configured domain the broker does not
// mail a code; it signs the user in through that domain's OpenID provider (code flow with
// PKCE, state and nonce, via createUpstreamOidc) and accepts only an ID token whose email is
// the address asked for, verified (email_verified true), in the configured domain.
import { parseDomain, parseSecureUrl } from '@bsso/protocol';
import { createUpstreamOidc, type UpstreamOidc } from '../backends/upstream-oidc.ts';

export interface BridgeOptions {
  /** The domain's OpenID issuer, exactly as its discovery document names it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** PEM of the CA(s) to trust for the issuer; default the system's. */
  ca?: string;
  /** Time budget of each call to the issuer, in ms; default 5000. */
  timeoutMs?: number;
}

export interface Bridge {
  domain: string;
  /** The issuer's origin (the sign-in pages' form-action allows it). */
  origin: string;
  upstream: UpstreamOidc;
}

/** Where the domain's OpenID provider sends the browser back, on the broker's issuer. */
export const BRIDGE_CALLBACK_PATH = '/broker/bridge/callback';

/** Validates the bridges once at start (a TypeError names the bad one). */
export function resolveBridges(
  bridges: Record<string, BridgeOptions> | undefined,
): Record<string, Required<Omit<BridgeOptions, 'ca'>> & { ca?: string }> {
  const out: Record<string, Required<Omit<BridgeOptions, 'ca'>> & { ca?: string }> = {};
  for (const [name, bridge] of Object.entries(bridges ?? {})) {
    let domain: string;
    try {
      domain = parseDomain(name);
      parseSecureUrl(bridge.issuer);
    } catch {
      throw new TypeError(`broker.bridges: ${name} needs a valid domain and an https issuer.`);
    }
    if (typeof bridge.clientId !== 'string' || bridge.clientId === '') {
      throw new TypeError(`broker.bridges.${domain}.clientId is required.`);
    }
    if (typeof bridge.clientSecret !== 'string' || bridge.clientSecret === '') {
      throw new TypeError(`broker.bridges.${domain}.clientSecret is required.`);
    }
    out[domain] = {
      issuer: bridge.issuer,
      clientId: bridge.clientId,
      clientSecret: bridge.clientSecret,
      timeoutMs: bridge.timeoutMs ?? 5000,
      ...(bridge.ca === undefined ? {} : { ca: bridge.ca }),
    };
  }
  return out;
}

export function createBridges(
  bridges: ReturnType<typeof resolveBridges>,
  brokerIssuer: string,
): Map<string, Bridge> {
  const out = new Map<string, Bridge>();
  for (const [domain, b] of Object.entries(bridges)) {
    out.set(domain, {
      domain,
      origin: new URL(b.issuer).origin,
      upstream: createUpstreamOidc({
        issuer: b.issuer,
        clientId: b.clientId,
        clientSecret: b.clientSecret,
        redirectUri: new URL(BRIDGE_CALLBACK_PATH, brokerIssuer).href,
        ca: b.ca,
        timeoutMs: b.timeoutMs,
      }),
    });
  }
  return out;
}
