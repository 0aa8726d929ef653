// Discovery: email domain -> WebFinger -> provider configuration (protocol-spec.md#discovery).
import WebFinger from 'webfinger.js';
import * as z from 'zod';
import {
  BSSO_VERSION,
  JRD_CONTENT_TYPE,
  limits,
  PROVIDER_CONFIG_PATH,
  WEBFINGER_REL,
} from './constants.ts';
import { type EmailAddress, parseEmail } from './email.ts';
import { BssoError } from './errors.ts';
import { type FetchLike, requestJson } from './http.ts';
import { parseSecureUrl, requireSameOrigin, type UrlPolicy } from './urls.ts';

/** The provider configuration document (protocol-spec.md#provider-configuration). */
export interface ProviderConfig {
  bsso_version: typeof BSSO_VERSION;
  issuer: string;
  assertion_endpoint: string;
  association_endpoint: string;
  verification_endpoint: string;
  signin_endpoint: string;
  /** OPTIONAL (protocol-spec.md#web-flow): where browsers sign in without the extension. */
  web_endpoint?: string;
}

const endpointNames = [
  'assertion_endpoint',
  'association_endpoint',
  'verification_endpoint',
  'signin_endpoint',
] as const;

// Unknown members are ignored so the document can grow without breaking old parties.
const providerConfigSchema = z.looseObject({
  bsso_version: z.literal(BSSO_VERSION),
  issuer: z.string(),
  assertion_endpoint: z.string(),
  association_endpoint: z.string(),
  verification_endpoint: z.string(),
  signin_endpoint: z.string(),
  web_endpoint: z.string().optional(),
});

/**
 * Validates a configuration document fetched from `configUrl`: the issuer is the origin of
 * that URL, and every endpoint is a secure URL on the issuer's origin.
 */
export function parseProviderConfig(
  json: unknown,
  configUrl: string,
  policy: UrlPolicy = {},
): ProviderConfig {
  const parsed = providerConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new BssoError('invalid_configuration', 'The configuration document is malformed.');
  }
  const doc = parsed.data;
  const from = parseSecureUrl(configUrl, policy);
  const issuer = parseSecureUrl(doc.issuer, policy);
  if (issuer.href !== `${issuer.origin}/` || doc.issuer !== issuer.origin) {
    throw new BssoError('invalid_configuration', 'The issuer must be a bare origin.');
  }
  requireSameOrigin(from, issuer.origin);
  const config: ProviderConfig = {
    bsso_version: BSSO_VERSION,
    issuer: issuer.origin,
    assertion_endpoint: '',
    association_endpoint: '',
    verification_endpoint: '',
    signin_endpoint: '',
  };
  for (const name of endpointNames) {
    const url = parseSecureUrl(doc[name], policy);
    requireSameOrigin(url, issuer.origin);
    config[name] = url.href;
  }
  if (doc.web_endpoint !== undefined) {
    const url = parseSecureUrl(doc.web_endpoint, policy);
    requireSameOrigin(url, issuer.origin);
    config.web_endpoint = url.href;
  }
  return config;
}

/** Builds the configuration document a provider serves at `issuer`. */
export function createProviderConfig(
  issuer: string,
  paths: Record<(typeof endpointNames)[number], string> & { web_endpoint?: string },
): ProviderConfig {
  const config: ProviderConfig = {
    bsso_version: BSSO_VERSION,
    issuer,
    assertion_endpoint: new URL(paths.assertion_endpoint, issuer).href,
    association_endpoint: new URL(paths.association_endpoint, issuer).href,
    verification_endpoint: new URL(paths.verification_endpoint, issuer).href,
    signin_endpoint: new URL(paths.signin_endpoint, issuer).href,
  };
  if (paths.web_endpoint !== undefined) {
    config.web_endpoint = new URL(paths.web_endpoint, issuer).href;
  }
  return config;
}

const jrdSchema = z.looseObject({
  subject: z.string(),
  links: z.array(z.looseObject({ rel: z.string(), href: z.string().optional() })).optional(),
});

/** The WebFinger resource for an address. */
export function acctUri(email: EmailAddress): string {
  return `acct:${email.address}`;
}

/**
 * Picks the provider configuration URL out of a JRD for `email`: the subject must be the
 * address asked about, and the first link with the BSSO relation must be a secure URL.
 */
export function configUrlFromJrd(
  json: unknown,
  email: EmailAddress,
  policy: UrlPolicy = {},
): string {
  const parsed = jrdSchema.safeParse(json);
  if (!parsed.success)
    throw new BssoError('discovery_failed', 'The WebFinger answer is malformed.');
  if (parsed.data.subject.toLowerCase() !== acctUri(email)) {
    throw new BssoError('discovery_failed', 'The WebFinger answer is about another address.');
  }
  const link = parsed.data.links?.find((l) => l.rel === WEBFINGER_REL);
  // A JRD about the address without the BSSO relation is the domain's answer that it names
  // no provider (protocol-spec.md#fallback); a BSSO link without href is a broken answer.
  if (!link) throw new BssoError('no_provider', `${email.domain} names no BSSO provider.`);
  if (!link.href) {
    throw new BssoError('discovery_failed', 'The BSSO provider link has no href.');
  }
  try {
    return parseSecureUrl(link.href, policy).href;
  } catch (err) {
    throw new BssoError('discovery_failed', 'The BSSO provider link is not a secure URL.', {
      cause: err,
    });
  }
}

/** The JRD a provider serves for an address of a domain it serves. */
export function createJrd(email: EmailAddress, configUrl: string) {
  return {
    subject: acctUri(email),
    links: [{ rel: WEBFINGER_REL, href: configUrl }],
  };
}

export interface DiscoveryOptions extends UrlPolicy {
  fetch?: FetchLike;
  timeoutMs?: number;
  /**
   * webfinger.js's check of each WebFinger host by name before it is asked (refuses literal
   * private and loopback hosts; under Node it also resolves the name with its own resolver).
   * Default true: what the extension can do. A caller whose `fetch` checks the address it
   * actually connects to (a site's `@bsso/protocol/public-network` fetch, the check that holds
   * against DNS rebinding and covers every request, not only WebFinger) turns it off, as do
   * development set-ups on loopback.
   */
  checkHostNames?: boolean;
}

export interface Discovered {
  email: EmailAddress;
  config: ProviderConfig;
}

/** Redirects a WebFinger look-up follows at most (protocol-spec.md#discovery). */
export const MAX_WEBFINGER_REDIRECTS = 3;

// webfinger.js's own host check, the one its lookup runs: refuses private, loopback and
// link-local hosts (and, under Node, names resolving to them) unless the override is on.
interface HostCheck {
  resolveAndValidateHost?: (host: string) => Promise<unknown>;
}

/**
 * Looks the JRD up over https only, with webfinger.js's host checks on every hop, at most
 * MAX_WEBFINGER_REDIRECTS redirects (never to http), and the transport's size and time caps
 * (webfinger.js's own fetch has no size cap and follows redirects to http).
 */
export async function lookupJrd(
  email: EmailAddress,
  options: DiscoveryOptions = {},
): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  const hosts = new WebFinger({
    tls_only: true,
    uri_fallback: false,
    request_timeout: timeoutMs,
    allow_private_addresses: options.checkHostNames === false,
  }) as unknown as HostCheck;
  let url = new URL(`https://${email.domain}/.well-known/webfinger`);
  url.searchParams.set('resource', acctUri(email));
  try {
    for (let hops = 0; ; hops++) {
      if (url.protocol !== 'https:') throw new Error('WebFinger redirected away from https.');
      // Fail closed if the library ever drops its check.
      if (typeof hosts.resolveAndValidateHost !== 'function') throw new Error('No host check.');
      await hosts.resolveAndValidateHost(url.host);
      const answer = await requestJson(url.href, {
        ...(options.fetch ? { fetch: options.fetch } : {}),
        timeoutMs: Math.max(1, deadline - Date.now()),
        maxBytes: limits.maxDocumentBytes,
        accept: [JRD_CONTENT_TYPE, 'application/json'],
        redirect: 'manual',
        bodyless: [404],
      });
      if (answer.status >= 300 && answer.status < 400) {
        if (hops >= MAX_WEBFINGER_REDIRECTS || answer.location === undefined) {
          throw new Error('Too many or broken WebFinger redirects.');
        }
        url = new URL(answer.location, url);
        continue;
      }
      // 404 is the domain's own answer that it names no provider (protocol-spec.md#fallback);
      // any other status is a failure, never that answer.
      if (answer.status === 404) break;
      if (answer.status !== 200) throw new Error(`WebFinger answered ${answer.status}.`);
      return answer.body;
    }
  } catch (err) {
    throw new BssoError('discovery_failed', `WebFinger on ${email.domain} failed.`, { cause: err });
  }
  throw new BssoError('no_provider', `${email.domain} names no BSSO provider.`);
}

/** Runs discovery for an address: the provider its domain names, with its configuration. */
export async function discoverProvider(
  address: string,
  options: DiscoveryOptions = {},
): Promise<Discovered> {
  const email = parseEmail(address);
  // One budget for the whole discovery: the configuration gets what WebFinger left.
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  const jrd = await lookupJrd(email, options);
  const configUrl = configUrlFromJrd(jrd, email, options);
  const left = deadline - Date.now();
  if (left <= 0) throw new BssoError('provider_timeout', 'Discovery took too long.');
  const answer = await requestJson(configUrl, {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    timeoutMs: left,
    maxBytes: limits.maxDocumentBytes,
  });
  if (answer.status !== 200) {
    throw new BssoError(
      'discovery_failed',
      `The configuration document answered ${answer.status}.`,
    );
  }
  return { email, config: parseProviderConfig(answer.body, configUrl, options) };
}

/**
 * The configuration of a provider known by its issuer rather than by an address's domain (a
 * fallback broker, protocol-spec.md#fallback): read from `PROVIDER_CONFIG_PATH` under the
 * issuer, with the transport's caps, and checked like any configuration document.
 */
export async function fetchIssuerConfig(
  issuer: string,
  options: { fetch?: FetchLike; timeoutMs?: number } & UrlPolicy = {},
): Promise<ProviderConfig> {
  const url = `${issuer}${PROVIDER_CONFIG_PATH}`;
  const answer = await requestJson(url, {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    timeoutMs: options.timeoutMs ?? 5000,
    maxBytes: limits.maxDocumentBytes,
  });
  if (answer.status !== 200) {
    throw new BssoError(
      'discovery_failed',
      `The configuration of ${issuer} answered ${answer.status}.`,
    );
  }
  return parseProviderConfig(answer.body, url, options);
}
