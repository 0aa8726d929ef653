// POST /bsso/assertion (protocol-spec.md#provider-processing; threats 11, 12, 49). The checks
// run in the spec's order; each is a small named step. No CORS headers are ever sent here.
// Requests are counted per client and per session: each assertion adds a row to the issued
// log, so a flood is refused (429 rate_limited) before it can grow the log.
import {
  type AssertionRequest,
  type AssertionSigningKey,
  BssoError,
  createAssertion,
  LOGIN_HINT_PARAM,
  type LoginRequiredAnswer,
  POPUP_PARAM,
  POPUP_PARAM_VALUE,
  parseAssertionRequest,
  parseEmail,
} from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { isExtensionOrigin } from '../config.ts';
import type { ProviderContext } from '../context.ts';
import { jsonBody } from '../http/json-body.ts';
import type { Session } from '../http/sessions.ts';
import { paths } from '../paths.ts';
import type { FailureThrottle } from '../rate-limit.ts';

/** 1. Only browser extensions may call: a web page's credentialed request is refused. */
function checkExtensionOrigin(ctx: ProviderContext) {
  const allowed = ctx.config.allowedExtensionOrigins;
  return (req: Request, _res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    const ok =
      typeof origin === 'string' &&
      isExtensionOrigin(origin) &&
      (allowed === undefined || allowed.has(origin));
    next(ok ? undefined : new BssoError('origin_not_allowed', 'Only the BSSO extension may ask.'));
  };
}

/** Counts one request for `key`; refuses it (rate_limited) over the limit. */
export async function countRequest(
  limiter: FailureThrottle,
  key: string,
  now: number,
): Promise<void> {
  if (!(await limiter.take(key, now))) {
    throw new BssoError('rate_limited', 'Too many assertion requests; try again later.');
  }
}

/** 2. Per client: a flood is refused before the body is even read. */
function limitClient(ctx: ProviderContext) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    await countRequest(ctx.limiters.assertionClient, clientKey(req.ip), ctx.config.now());
    next();
  };
}

/** 4. The address must be in a domain this provider serves (says nothing about accounts). */
export function checkDomainServed(
  ctx: ProviderContext,
  request: Pick<AssertionRequest, 'email'>,
): void {
  const { domain } = parseEmail(request.email);
  if (!ctx.config.domains.has(domain)) {
    throw new BssoError('unknown_domain', `This provider does not serve ${domain}.`);
  }
}

/** 5. A session is required; the answer is the same whether or not the account exists. */
function signinUrl(ctx: ProviderContext, email: string): string {
  const url = new URL(paths.signin, ctx.config.issuer);
  url.searchParams.set(LOGIN_HINT_PARAM, email);
  url.searchParams.set(POPUP_PARAM, POPUP_PARAM_VALUE);
  return url.href;
}

/** 7. The session must be the address asked about. */
function checkSameAccount(session: Session, request: AssertionRequest): void {
  if (session.email !== request.email) {
    throw new BssoError('wrong_account', 'You are signed in at the provider as another address.');
  }
}

/**
 * 8. The association key when the handle is live and bound to the audience's origin;
 * otherwise the provider key, telling the site to drop a handle it cannot use. The web flow
 * chooses its key here too (protocol-spec.md#web-flow).
 */
export async function chooseKey(
  ctx: ProviderContext,
  request: Pick<AssertionRequest, 'audience' | 'handle'>,
  now: number,
): Promise<{ key: AssertionSigningKey; invalidateHandle?: string }> {
  const providerKey: AssertionSigningKey = { kind: 'provider', ...ctx.keys.current };
  if (request.handle === undefined) return { key: providerKey };
  const association = await ctx.stores.associations.find(request.handle);
  const usable =
    association !== undefined &&
    !association.invalidated &&
    association.expiresAt > now &&
    association.site === new URL(request.audience).origin;
  if (usable) {
    return {
      key: { kind: 'association', handle: association.handle, secret: association.secret },
    };
  }
  return { key: providerKey, invalidateHandle: request.handle };
}

/**
 * 8. Chooses the key, creates the assertion for the session's address, records it in the
 * issued-assertion log (what the account page lists) and counts it: one home for the
 * extension's assertion endpoint and the web flow (protocol-spec.md#provider-processing).
 */
export async function issueAssertion(
  ctx: ProviderContext,
  request: Pick<AssertionRequest, 'audience' | 'nonce' | 'handle'>,
  email: string,
  flow: 'extension' | 'web',
): Promise<string> {
  const { config } = ctx;
  const now = config.now();
  const { key, invalidateHandle } = await chooseKey(ctx, request, now);
  const assertion = await createAssertion({
    issuer: config.issuer,
    email,
    audience: request.audience,
    nonce: request.nonce,
    key,
    now,
    lifetimeSeconds: config.assertionLifetimeSeconds,
    ...(invalidateHandle === undefined ? {} : { invalidateHandle }),
  });
  const siteOrigin = new URL(request.audience).origin;
  await ctx.stores.issuedLog.record({ email, siteOrigin, issuedAt: now });
  config.logger.info('assertion_issued', { site: siteOrigin, key: key.kind, flow });
  ctx.metrics.assertionsIssued.inc({ key: key.kind });
  return assertion;
}

export function assertionRouter(ctx: ProviderContext): Router {
  const router = Router();
  const { config } = ctx;
  router.post(
    paths.assertion,
    checkExtensionOrigin(ctx),
    limitClient(ctx),
    // 3. Content type, size and strict body.
    ...jsonBody(),
    async (req: Request, res: Response) => {
      const request = parseAssertionRequest(req.body, config.urlPolicy);
      // A broker also serves domains that name no provider (protocol-spec.md#fallback).
      const brokered =
        ctx.broker !== undefined &&
        !config.domains.has(parseEmail(request.email).domain) &&
        (await ctx.broker.servesAddress(request.email));
      if (!brokered) checkDomainServed(ctx, request);
      const session = await ctx.sessions.current(req);
      if (!session) {
        res.status(401).json({
          error: 'login_required',
          error_description: 'Sign in at your email provider first.',
          signin_url: signinUrl(ctx, request.email),
        } satisfies LoginRequiredAnswer);
        return;
      }
      // 6. Per session, before any signing or logging.
      const now = config.now();
      await countRequest(ctx.limiters.assertionSession, session.idHash, now);
      checkSameAccount(session, request);
      const assertion = await issueAssertion(ctx, request, session.email, 'extension');
      // 9. The answer (no-store, like every JSON answer).
      res.json({ assertion });
    },
  );
  return router;
}
