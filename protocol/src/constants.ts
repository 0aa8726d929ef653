// Protocol constants. protocol-spec.md#constants lists each of them; change both together.

/** Version of the protocol this package implements (protocol-spec.md#versioning). */
export const BSSO_VERSION = 1;

/** `rel` of the page's `<link>` naming the site's BSSO endpoint (protocol-spec.md#page-markup). */
export const PAGE_LINK_REL = 'bsso_end_point';
/** `id` of the page's sign-in button (protocol-spec.md#page-markup). */
export const SIGN_IN_BUTTON_ID = 'bsso_sign_in_button';
/** Attribute of the endpoint link carrying a page challenge's nonce (protocol-spec.md#page-challenge). */
export const PAGE_NONCE_ATTR = 'data-bsso-nonce';
/** Attribute of the endpoint link: seconds the page nonce stays valid after the page loaded. */
export const PAGE_NONCE_EXPIRES_ATTR = 'data-bsso-expires-in';
/** Attribute of the endpoint link naming the site's current handle set (protocol-spec.md#page-challenge). */
export const PAGE_HANDLE_SET_ATTR = 'data-bsso-handle-set';

/** WebFinger link relation whose href is the provider configuration document. */
export const WEBFINGER_REL = 'https://bsso.dev/rel/provider';
/**
 * Local part a site looks up when it knows only a domain (at challenge time). Providers answer
 * alike for every address of a domain (protocol-spec.md#discovery), so any address would do.
 */
export const DOMAIN_PROBE_LOCAL_PART = 'bsso-site-discovery';

/** Path of the configuration document under an issuer: RECOMMENDED, and where a fallback broker's is read. */
export const PROVIDER_CONFIG_PATH = '/.well-known/bsso-provider';
/** Media type of a WebFinger answer (RFC 7033 §10.2). */
export const JRD_CONTENT_TYPE = 'application/jrd+json';

/** JWS `typ` header of every assertion (RFC 8725 §3.11 explicit typing). */
export const ASSERTION_TYP = 'bsso-assertion+jwt';
/** Algorithm of association-signed assertions: HMAC with the association key. */
export const ASSOCIATION_ALG = 'HS256';
/** Algorithm of provider-key-signed assertions (deterministic Ed25519 signatures). */
export const PROVIDER_KEY_ALG = 'EdDSA';

/** Query parameter value that asks the site's endpoint for a challenge. */
export const CHALLENGE_QUERY = 'challenge';
/**
 * Query parameter value of the site's start page, `<endpoint>?bsso=start`, where a sign-in
 * without the extension begins (protocol-spec.md#web-flow).
 */
export const START_QUERY = 'start';
/** Form field of the delivery POST that carries the assertion. */
export const DELIVERY_ASSERTION_FIELD = 'assertion';
/** Form field of the delivery POST that carries the same-origin path to return to. */
export const DELIVERY_RETURN_TO_FIELD = 'return_to';

/**
 * Query parameter of a `signin_url` carrying the address, only a hint
 * (protocol-spec.md#sign-in-popup).
 */
export const LOGIN_HINT_PARAM = 'login_hint';
/** Query parameter of a `signin_url` that marks a sign-in in the extension's popup. */
export const POPUP_PARAM = 'popup';
/** Value of `POPUP_PARAM` in a `signin_url`. */
export const POPUP_PARAM_VALUE = '1';
/** Query parameter of the provider page that a finished popup sign-in lands on. */
export const POPUP_DONE_PARAM = 'bsso_popup';
/** Value of `POPUP_DONE_PARAM` on that page. */
export const POPUP_DONE_VALUE = 'done';

export const limits = {
  /** Random bytes in a nonce: 256 bits, at least the 128 protocol-spec.md#challenge requires. */
  nonceBytes: 32,
  /** Random bytes in an association key: 256 bits for HS256. */
  associationKeyBytes: 32,
  /** Random bytes in a `jti` and an association handle. */
  idBytes: 16,
  /** Longest assertion lifetime (`exp - iat`) a verifier accepts, in seconds. */
  maxAssertionLifetimeSeconds: 300,
  /** Lifetime a provider gives an assertion unless configured otherwise, in seconds. */
  defaultAssertionLifetimeSeconds: 120,
  /** Clock skew a verifier tolerates on `iat` and `exp`, in seconds. */
  clockSkewSeconds: 60,
  /** Lifetime of a site's challenge nonce, in seconds. */
  nonceLifetimeSeconds: 300,
  /** Longest lifetime of a page challenge's nonce anyone accepts, in seconds (one day). */
  maxPageNonceLifetimeSeconds: 86_400,
  /**
   * Least time a page nonce or a remembered handle must have left for the extension to use it
   * instead of asking for a challenge, in seconds.
   */
  pageChallengeMarginSeconds: 60,
  /** Longest association lifetime a site accepts, in seconds (one week). */
  maxAssociationLifetimeSeconds: 7 * 24 * 3600,
  /** Shortest association lifetime a site accepts, in seconds. */
  minAssociationLifetimeSeconds: 60,
  /** Longest encoded assertion anyone accepts, in characters. */
  maxAssertionLength: 4096,
  /** Longest email address, in characters (RFC 5321 §4.5.3.1.3 path limit). */
  maxEmailLength: 254,
  /** Largest JSON document (JRD, configuration, S2S answer) anyone reads, in bytes. */
  maxDocumentBytes: 64 * 1024,
  /** Largest request body any BSSO endpoint reads, in bytes. */
  maxRequestBodyBytes: 16 * 1024,
} as const;
