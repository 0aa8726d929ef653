// POST /bsso/association (contract: association; threats.md #15): a site asks for a shared
// key bound to its origin. The association is persisted so it survives restarts.
import {
  createAssociationSecret,
  encodeAssociationAnswer,
  parseAssociationRequest,
} from '@bsso/protocol';
import { type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { jsonBody } from '../http/json-body.ts';
import { paths } from '../paths.ts';

export function associationRouter(ctx: ProviderContext): Router {
  const router = Router();
  const { config, stores } = ctx;
  router.post(paths.association, ...jsonBody(), async (req: Request, res: Response) => {
    const { site } = parseAssociationRequest(req.body, config.urlPolicy);
    const { handle, secret } = createAssociationSecret();
    const now = config.now();
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
    res.json(encodeAssociationAnswer(handle, secret, lifetime));
  });
  return router;
}
