// POST /bsso/association (protocol-spec.md#association; threat 15): a site asks for a shared
// key bound to its origin. The association is persisted so it survives restarts.
import {
  BssoError,
  createAssociationSecret,
  encodeAssociationAnswer,
  parseAssociationRequest,
} from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { jsonBody } from '../http/json-body.ts';
import { paths } from '../paths.ts';

export function associationRouter(ctx: ProviderContext): Router {
  const router = Router();
  const { config, stores } = ctx;
  router.post(paths.association, ...jsonBody(), async (req: Request, res: Response) => {
    const { site } = parseAssociationRequest(req.body, config.urlPolicy);
    // Each association is a stored row: bound the rate so nobody can fill the database.
    const now = config.now();
    const ipKey = clientKey(req.ip);
    if (!(await ctx.limiters.association.take(ipKey, now))) {
      throw new BssoError('rate_limited', 'Too many associations; try again later.');
    }
    const { handle, secret } = createAssociationSecret();
    const lifetime = config.associationLifetimeSeconds;
    await stores.associations.insert({
      handle,
      secret,
      site,
      createdAt: now,
      expiresAt: now + lifetime * 1000,
      invalidated: false,
    });
    config.logger.info('association_created', { site });
    ctx.metrics.associationsCreated.inc();
    res.json(encodeAssociationAnswer(handle, secret, lifetime));
  });
  return router;
}
