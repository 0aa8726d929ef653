// Operations endpoints (not protocol; email-provider/README.md, "Health and metrics"):
// - GET /healthz: liveness, 200 whenever the process serves requests;
// - GET /readyz: readiness, 200 when every store answers (a query, a Redis ping), else 503
//   naming the store that did not (never a URL or a message); 503 too while shutting down;
// - GET /metrics: Prometheus text, only with a metrics token configured and only for a
//   request bearing it (401 otherwise); without a token it does not exist (404).
import { timingSafeEqual } from 'node:crypto';
import { type NextFunction, type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { operationsPaths } from '../metrics.ts';
import type { StoreCheck } from '../storage/types.ts';

/** A store that has not answered within this is reported unavailable. */
const READY_CHECK_MS = 3000;

async function checkStores(ctx: ProviderContext): Promise<StoreCheck[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), READY_CHECK_MS);
  });
  try {
    return await Promise.race([ctx.stores.check(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Constant-time comparison of the presented bearer token with the configured one. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function operationsRouter(ctx: ProviderContext): Router {
  const router = Router();
  const noStore = (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  router.get(operationsPaths.healthz, noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get(operationsPaths.readyz, noStore, async (_req, res) => {
    if (ctx.lifecycle.draining) {
      res.status(503).json({
        error: 'shutting_down',
        error_description: 'The provider is shutting down.',
      });
      return;
    }
    const checks = await checkStores(ctx);
    const stores = Object.fromEntries(
      (checks ?? []).map((c) => [c.store, c.ok ? 'ok' : 'unavailable']),
    );
    const failed = checks ? checks.filter((c) => !c.ok).map((c) => c.store) : ['stores'];
    if (failed.length > 0) {
      ctx.config.logger.warn('not_ready', { stores: failed.join(',') });
      res.status(503).json({
        error: 'store_unavailable',
        error_description: `Not answering: ${failed.join(', ')}.`,
        stores,
      });
      return;
    }
    res.json({ status: 'ready', stores });
  });

  const token = ctx.config.metricsToken;
  if (token !== undefined) {
    router.get(operationsPaths.metrics, noStore, async (req, res) => {
      if (!bearerMatches(req.headers.authorization, token)) {
        res.set('WWW-Authenticate', 'Bearer realm="bsso-provider metrics"');
        res.status(401).json({
          error: 'unauthorized',
          error_description: 'The metrics need the bearer token.',
        });
        return;
      }
      const { registry } = ctx.metrics;
      res.type(registry.contentType).send(await registry.metrics());
    });
  }
  return router;
}
