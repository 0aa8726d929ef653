// @bsso/relying-site/core: accept BSSO sign-in from any Node.js server, no framework needed.
// createBssoEndpoint runs the whole flow and answers with what to send; the rest are its parts.
export { errorAnswer, type SiteAnswer } from './answers.ts';
export {
  type Associations,
  needsRenewal,
  SITE_MAX_ASSOCIATION_LIFETIME_SECONDS,
} from './associations.ts';
export {
  BROWSER_COOKIE,
  browserCookie,
  clearSessionCookie,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
} from './cookies.ts';
export {
  checkContentType,
  checkDeclaredLength,
  type DeliveryForm,
  parseDeliveryForm,
  readBody,
} from './delivery.ts';
export type { Discovery, DiscoveryPolicy } from './discovery.ts';
export {
  type BssoEndpoint,
  type BssoEndpointOptions,
  type BssoRequestState,
  createBssoEndpoint,
  isSignedInAnswer,
  type SignedInAnswer,
  type SiteRequest,
  type VerifiedDelivery,
} from './endpoint.ts';
export {
  type Counted,
  createMemoryAssociationCache,
  createMemoryDiscoveryCache,
  createMemoryNonceStore,
  createMemorySessionStore,
  createMemoryStores,
  type MemoryAssociationCapacity,
  type MemoryCapacity,
  memoryCapacity,
} from './memory-stores.ts';
export { prefersJson } from './negotiate.ts';
export type { ResolvedEndpoint, SiteCoreOptions } from './options.ts';
export {
  createOutbound,
  createSemaphore,
  type Outbound,
  type OutboundOptions,
} from './outbound.ts';
export {
  type PageChallengeKeySource,
  type PageChallengeKeys,
  pageChallengeHtml,
} from './page-challenge.ts';
export {
  createMemoryRequestRateLimiter,
  type MemoryRequestRateLimiterOptions,
  type RequestRateLimiter,
} from './rate-limit.ts';
export {
  createRedisRequestRateLimiter,
  createRedisStores,
  type RedisClient,
  type RedisSiteStores,
  type RedisStoresOptions,
} from './redis-stores.ts';
export {
  type ChallengeInput,
  createSiteCore,
  type Sessions,
  type SiteCore,
} from './site-core.ts';
export type * from './stores.ts';
export type { VerifiedAssertion } from './verify.ts';
