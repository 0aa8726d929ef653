// WebFinger (RFC 7033) and the provider configuration document (protocol-spec.md#discovery,
// protocol-spec.md#provider-configuration).
// WebFinger answers the same for every address of a served domain: no account enumeration.
import {
  BssoError,
  createJrd,
  createProviderConfig,
  JRD_CONTENT_TYPE,
  parseEmail,
} from '@bsso/protocol';
import { type NextFunction, type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { paths } from '../paths.ts';

function queryValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function configurationUrl(issuer: string): string {
  return new URL(paths.configuration, issuer).href;
}

export function discoveryRouter(ctx: ProviderContext): Router {
  const router = Router();
  const { issuer, domains } = ctx.config;

  // RFC 7033 §5: WebFinger answers carry CORS for any origin, errors included.
  router.get(paths.webfinger, (req: Request, res: Response, next: NextFunction) => {
    res.set('Access-Control-Allow-Origin', '*');
    const resources = queryValues(req.query.resource);
    const [resource] = resources;
    if (resources.length !== 1 || resource === undefined) {
      next(new BssoError('invalid_request', 'Exactly one resource parameter is required.'));
      return;
    }
    if (!/^acct:/i.test(resource)) {
      next(new BssoError('invalid_request', 'The resource must be an acct: URI.'));
      return;
    }
    let email: ReturnType<typeof parseEmail>;
    try {
      email = parseEmail(resource.slice('acct:'.length));
    } catch {
      next(new BssoError('invalid_request', 'The resource is not a valid acct: URI.'));
      return;
    }
    if (!domains.has(email.domain)) {
      next(new BssoError('unknown_domain', `This server does not serve ${email.domain}.`));
      return;
    }
    const jrd = createJrd(email, configurationUrl(issuer));
    const rels = queryValues(req.query.rel);
    // RFC 7033 §4.3: with rel given, only links of those relations are returned.
    if (rels.length > 0) jrd.links = jrd.links.filter((l) => rels.includes(l.rel));
    res.set('Cache-Control', 'max-age=300');
    res.type(JRD_CONTENT_TYPE).send(JSON.stringify(jrd));
  });

  const document = createProviderConfig(issuer, {
    assertion_endpoint: paths.assertion,
    association_endpoint: paths.association,
    verification_endpoint: paths.verification,
    signin_endpoint: paths.signin,
    web_endpoint: paths.web,
  });
  // A public document; CORS lets any client (an extension page included) read it.
  router.get(paths.configuration, (_req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'max-age=300' });
    res.json(document);
  });
  return router;
}
