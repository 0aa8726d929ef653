// Prometheus metrics of one provider (prom-client, one registry per createProvider: no
// global state). Counted always (a counter costs an addition); exposed at /metrics only when
// the operator sets a token (endpoints/operations.ts). No label ever carries an address, a
// site, a session or a key id: labels come from small fixed sets.
import type { NextFunction, Request, Response } from 'express';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { passkeyPaths } from './passkeys/paths.ts';
import { paths } from './paths.ts';

export const operationsPaths = {
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
} as const;

export interface Metrics {
  readonly registry: Registry;
  /** Successful password sign-ins, by account back-end. */
  readonly signins: Counter<'backend'>;
  /** Refused sign-ins, by reason (see signinReason). */
  readonly signinFailures: Counter<'reason'>;
  /** Assertions issued, by the kind of key that signed them (provider, association). */
  readonly assertionsIssued: Counter<'key'>;
  readonly associationsCreated: Counter;
  /** Direct verifications, by result: 'valid' or the error code of the refusal. */
  readonly directVerifications: Counter<'result'>;
  /** Time to answer, per endpoint (the fixed paths; anything else is 'other'). */
  readonly requestDuration: Histogram<'endpoint' | 'method' | 'status'>;
  /** Failed calls to a store (database, Redis), by store and operation. */
  readonly storeErrors: Counter<'store' | 'operation'>;
}

export interface MetricsOptions {
  /** Also the process metrics (CPU, memory, event loop, handles); default false. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    signins: new Counter({
      name: 'bsso_signins_total',
      help: 'Successful sign-ins, by account back-end.',
      labelNames: ['backend'],
      registers,
    }),
    signinFailures: new Counter({
      name: 'bsso_signin_failures_total',
      help: 'Refused sign-ins, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    assertionsIssued: new Counter({
      name: 'bsso_assertions_issued_total',
      help: 'Assertions issued, by signing key kind.',
      labelNames: ['key'],
      registers,
    }),
    associationsCreated: new Counter({
      name: 'bsso_associations_created_total',
      help: 'Associations created.',
      registers,
    }),
    directVerifications: new Counter({
      name: 'bsso_direct_verifications_total',
      help: "Direct verifications, by result ('valid' or the error code).",
      labelNames: ['result'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'bsso_http_request_duration_seconds',
      help: 'Time to answer a request, by endpoint, method and status.',
      labelNames: ['endpoint', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    storeErrors: new Counter({
      name: 'bsso_store_errors_total',
      help: 'Failed store calls (database, Redis), by store and operation.',
      labelNames: ['store', 'operation'],
      registers,
    }),
  };
}

const ENDPOINTS: ReadonlySet<string> = new Set([
  ...Object.values(paths),
  ...Object.values(passkeyPaths),
  ...Object.values(operationsPaths),
]);

/** The endpoint label: one of the provider's fixed paths, else 'other' (bounded labels). */
function endpointOf(path: string): string {
  return ENDPOINTS.has(path) ? path : 'other';
}

/**
 * Why a sign-in was refused, from the page's status: the sign-in pages answer each outcome
 * with its own status (pages/signin.ts, pages/signin-upstream.ts), the same page whatever
 * the account.
 */
export function signinReason(status: number): string {
  switch (status) {
    case 401:
      return 'invalid_credentials';
    case 429:
      return 'throttled';
    case 503:
      return 'backend_unavailable';
    case 403:
      return 'form_expired';
    case 400:
      return 'invalid_request';
    default:
      return 'error';
  }
}

/**
 * Times every request and counts the outcomes seen from outside a handler: sign-ins (a
 * password form post, or the upstream OpenID provider's callback: 303 is a session started;
 * a refused start of the upstream round trip is a failure too) and direct verifications
 * (the error code the one error handler put in res.locals.errorCode).
 */
export function metricsMiddleware(metrics: Metrics, backendType: () => string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = metrics.requestDuration.startTimer();
    res.on('finish', () => {
      const endpoint = endpointOf(req.path);
      const status = res.statusCode;
      stop({ endpoint, method: req.method === 'HEAD' ? 'GET' : req.method, status });
      const post = req.method === 'POST';
      if (
        (post && endpoint === paths.signin) ||
        (post && endpoint === passkeyPaths.signin) ||
        (req.method === 'GET' && endpoint === paths.signinUpstreamCallback)
      ) {
        // A 200 to the password form is the passkey step (pages/passkeys.ts): no outcome yet.
        if (status === 303) metrics.signins.inc({ backend: backendType() });
        else if (status !== 200) metrics.signinFailures.inc({ reason: signinReason(status) });
      } else if (post && endpoint === paths.signinUpstream && status !== 303) {
        metrics.signinFailures.inc({ reason: signinReason(status) });
      } else if (post && endpoint === paths.verification) {
        const code = res.locals.errorCode;
        metrics.directVerifications.inc({
          result: status === 200 ? 'valid' : typeof code === 'string' ? code : 'error',
        });
      }
    });
    next();
  };
}
