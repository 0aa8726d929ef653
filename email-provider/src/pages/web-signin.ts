// GET and POST /bsso/web: the provider's web endpoint, for a sign-in without the extension
// (protocol-spec.md#web-flow; threat 48). The steps run in the spec's order, each a small
// named check; every refusal is a page with the error's code and status, and nothing is
// POSTed anywhere. The one answer that carries an assertion is the page that POSTs the
// delivery form to the request's audience.
import {
  BssoError,
  LOGIN_HINT_PARAM,
  parseWebSignInRequest,
  safeReturnPath,
  type WebSignInRequest,
  webSignInUrl,
} from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { checkDomainServed, countRequest, issueAssertion } from '../endpoints/assertion.ts';
import { csrfToken, csrfValid } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import type { Session } from '../http/sessions.ts';
import { paths } from '../paths.ts';
import { field, formBody } from './forms.ts';
import { CONTINUE_PARAM } from './signin-page.ts';
import {
  DECISION_FIELD,
  renderCancelled,
  renderConsent,
  renderDelivery,
  renderWebError,
  renderWrongAccount,
} from './web-pages.ts';

const WEB_PARAMS = ['audience', 'nonce', LOGIN_HINT_PARAM, 'handle', 'return_to'] as const;

/**
 * Where the sign-in page may send the browser after signing in, besides its usual pages:
 * only the provider's own web endpoint, as a plain path with a query (no open redirect).
 */
export function webContinuePath(value: string | undefined): string | undefined {
  if (value === undefined || safeReturnPath(value) !== value) return undefined;
  const url = new URL(value, 'https://provider.invalid');
  return url.pathname === paths.web && url.search !== '' ? value : undefined;
}

/** The sign-in page's URL for a web request, coming back to the same request. */
function signinHref(request: WebSignInRequest): string {
  const back = new URL(webSignInUrl(new URL(paths.web, 'https://provider.invalid').href, request));
  const query = new URLSearchParams({
    [LOGIN_HINT_PARAM]: request.login_hint,
    [CONTINUE_PARAM]: `${back.pathname}${back.search}`,
  });
  return `${paths.signin}?${query}`;
}

/** 1. Per client, before anything is read (shares the assertion endpoint's budget). */
async function limitClient(ctx: ProviderContext, req: Request): Promise<void> {
  await countRequest(ctx.limiters.assertionClient, clientKey(req.ip), ctx.config.now());
}

/**
 * 2.-3. The request, strictly parsed; its address in a served domain, or, for a broker, in a
 * domain that names no provider (protocol-spec.md#fallback), as at the assertion endpoint.
 */
async function parseRequest(
  ctx: ProviderContext,
  query: URLSearchParams,
): Promise<WebSignInRequest> {
  const request = parseWebSignInRequest(query, ctx.config.urlPolicy);
  const email = request.login_hint;
  const brokered =
    ctx.broker !== undefined &&
    !ctx.config.domains.has(email.slice(email.lastIndexOf('@') + 1)) &&
    (await ctx.broker.servesAddress(email));
  if (!brokered) checkDomainServed(ctx, { email });
  return request;
}

/** The web parameters of a consent form POST (its other fields are the CSRF token and the choice). */
function postedQuery(req: Request): URLSearchParams {
  const query = new URLSearchParams();
  for (const name of WEB_PARAMS) {
    const value = field(req, name);
    if (value !== undefined) query.set(name, value);
  }
  return query;
}

type Outcome =
  | { kind: 'signin' }
  | { kind: 'wrong_account'; session: Session }
  | { kind: 'ok'; session: Session };

/** 4.-6. A session, counted per session, of the address asked for. */
async function checkSession(
  ctx: ProviderContext,
  req: Request,
  request: WebSignInRequest,
): Promise<Outcome> {
  const session = await ctx.sessions.current(req);
  if (!session) return { kind: 'signin' };
  await countRequest(ctx.limiters.assertionSession, session.idHash, ctx.config.now());
  return session.email === request.login_hint
    ? { kind: 'ok', session }
    : { kind: 'wrong_account', session };
}

/** 8.-9. The assertion, made as for the extension, POSTed by the page to the audience only. */
async function deliver(
  ctx: ProviderContext,
  res: Response,
  session: Session,
  request: WebSignInRequest,
  origin: string,
): Promise<void> {
  const assertion = await issueAssertion(ctx, request, session.email, 'web');
  renderDelivery(res, request, assertion, origin);
}

export function webSigninRouter(ctx: ProviderContext): Router {
  const router = Router();
  const { config, stores } = ctx;

  const refuse = (res: Response, err: unknown) => {
    const code = renderWebError(res, err);
    if (code === 'server_error')
      config.logger.error('web_signin_failed', {
        error: err instanceof Error ? err.name : typeof err,
      });
    else config.logger.info('web_signin_refused', { code });
  };

  router.get(paths.web, htmlSecurityHeaders, async (req, res) => {
    try {
      await limitClient(ctx, req);
      const request = await parseRequest(
        ctx,
        new URL(req.originalUrl, 'https://provider.invalid').searchParams,
      );
      const outcome = await checkSession(ctx, req, request);
      if (outcome.kind === 'signin') {
        res.redirect(303, signinHref(request));
        return;
      }
      if (outcome.kind === 'wrong_account') {
        renderWrongAccount(res, request, outcome.session.email, signinHref(request));
        return;
      }
      // 7. Consent, once per account and site origin.
      const origin = new URL(request.audience).origin;
      if (!(await stores.consents.has(outcome.session.email, origin))) {
        renderConsent(res, request, csrfToken(req, res), origin);
        return;
      }
      await deliver(ctx, res, outcome.session, request, origin);
    } catch (err) {
      refuse(res, err);
    }
  });

  // A body the form parser refuses (too large, not decodable) is a refusal page too.
  const parseForm = formBody();
  const readForm = (req: Request, res: Response, next: (err?: unknown) => void) => {
    parseForm(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      const type = (err as { type?: unknown }).type;
      refuse(
        res,
        new BssoError(type === 'entity.too.large' ? 'payload_too_large' : 'invalid_request'),
      );
    });
  };

  router.post(paths.web, htmlSecurityHeaders, readForm, async (req, res) => {
    try {
      await limitClient(ctx, req);
      if (!csrfValid(req)) throw new BssoError('invalid_request', 'The form has expired.');
      const request = await parseRequest(ctx, postedQuery(req));
      const outcome = await checkSession(ctx, req, request);
      if (outcome.kind === 'signin') {
        res.redirect(303, signinHref(request));
        return;
      }
      if (outcome.kind === 'wrong_account') {
        renderWrongAccount(res, request, outcome.session.email, signinHref(request));
        return;
      }
      const origin = new URL(request.audience).origin;
      const decision = field(req, DECISION_FIELD);
      if (decision === 'cancel') {
        config.logger.info('web_signin_cancelled', {});
        renderCancelled(res, request, origin);
        return;
      }
      if (decision !== 'continue') throw new BssoError('invalid_request', 'No choice was made.');
      await stores.consents.grant({
        email: outcome.session.email,
        siteOrigin: origin,
        grantedAt: config.now(),
      });
      await deliver(ctx, res, outcome.session, request, origin);
    } catch (err) {
      refuse(res, err);
    }
  });
  return router;
}
