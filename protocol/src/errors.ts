// Typed protocol errors with stable codes (protocol-spec.md#errors).
// Every code, its HTTP status and its meaning live here and only here.

export const errorCodes = {
  invalid_request: { status: 400, description: 'The request is malformed or misses a member.' },
  unsupported_media_type: { status: 415, description: 'The request has the wrong content type.' },
  payload_too_large: { status: 413, description: 'The request body is too large.' },
  invalid_email: { status: 400, description: 'The email address is malformed.' },
  login_required: { status: 401, description: 'The user is not signed in at the provider.' },
  wrong_account: {
    status: 403,
    description: 'The user is signed in at the provider as another address.',
  },
  origin_not_allowed: {
    status: 403,
    description: 'The caller is not allowed to use this endpoint.',
  },
  unknown_domain: { status: 404, description: 'The provider does not serve this domain.' },
  insecure_url: { status: 400, description: 'A URL is not https, or not allowed here.' },
  origin_mismatch: { status: 400, description: 'A URL is not on the origin it must be on.' },
  discovery_failed: {
    status: 502,
    description: 'The email domain does not name a usable BSSO provider.',
  },
  no_provider: {
    status: 502,
    description: 'The email domain names no BSSO provider (a fallback broker may speak for it).',
  },
  invalid_configuration: {
    status: 502,
    description: 'The provider configuration document is invalid.',
  },
  invalid_assertion: { status: 400, description: 'The assertion is malformed or not valid.' },
  invalid_signature: { status: 400, description: 'The assertion signature does not verify.' },
  invalid_audience: { status: 400, description: 'The assertion is for another site.' },
  invalid_issuer: {
    status: 400,
    description: 'The assertion issuer is not the provider of the email domain.',
  },
  assertion_expired: { status: 400, description: 'The assertion has expired.' },
  clock_skew: { status: 400, description: 'The assertion times are outside the tolerated skew.' },
  unknown_association: { status: 400, description: 'The association handle is not known here.' },
  association_expired: { status: 400, description: 'The association has expired.' },
  invalid_nonce: {
    status: 400,
    description: 'The nonce is missing, unknown, used, or bound to another browser.',
  },
  assertion_replayed: { status: 400, description: 'The assertion was already used.' },
  rate_limited: { status: 429, description: 'Too many requests; try again later.' },
  provider_unavailable: { status: 503, description: 'The provider could not be reached.' },
  provider_timeout: { status: 504, description: 'The provider did not answer in time.' },
  provider_error: { status: 502, description: 'The provider gave an answer that is not valid.' },
  not_found: { status: 404, description: 'There is nothing here.' },
  method_not_allowed: { status: 405, description: 'The method is not allowed here.' },
  server_error: { status: 500, description: 'An unexpected error happened.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value);
}

/** The error every protocol function throws. Callers switch on `code`, never on `message`. */
export class BssoError extends Error {
  readonly code: ErrorCode;
  override readonly name = 'BssoError';

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? errorCodes[code].description, options);
    this.code = code;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }
}

/** Wire form of an error (protocol-spec.md#error-object). */
export interface ErrorObject {
  error: ErrorCode;
  error_description: string;
}

/**
 * Maps any thrown value to the wire error object and status. Unexpected errors become a
 * generic `server_error` so their messages never leak. With `detail: false` the description
 * is the code's fixed text from the table, never the error's own message (a site answering
 * about its outbound requests).
 */
export function toErrorResponse(
  err: unknown,
  options: { detail?: boolean } = {},
): { status: number; body: ErrorObject } {
  if (err instanceof BssoError) {
    const description = options.detail === false ? errorCodes[err.code].description : err.message;
    return { status: err.status, body: { error: err.code, error_description: description } };
  }
  return {
    status: 500,
    body: { error: 'server_error', error_description: errorCodes.server_error.description },
  };
}
