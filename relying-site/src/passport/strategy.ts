// A Passport strategy for BSSO. The delivery POST authenticates; Passport makes the session.
//   passport.use(new BssoStrategy({ endpoint }, (email, done) => done(null, { email })));
//   app.use(bssoRoutes(strategy));   // the challenge GET, sign-out, 405 for other methods
//   app.post('/bsso', passport.authenticate('bsso', { failureRedirect: '/', ... }));
// Rejections are Passport failures (info { message, code }, the endpoint's status), so
// failureRedirect and failureMessage work as with any strategy; unexpected errors go to next().
import { BssoError, errorCodes, START_QUERY } from '@bsso/protocol';
import express, { type Request, type Router } from 'express';
import { Strategy } from 'passport-strategy';
import {
  type BssoEndpoint,
  type BssoEndpointOptions,
  createBssoEndpoint,
  type SiteRequest,
} from '../core/endpoint.ts';
import type { SiteCore } from '../core/site-core.ts';
import { bodyOf } from '../express/body.ts';
import { fromNode, writeAnswer } from '../node/answer.ts';

export type BssoStrategyOptions = Omit<BssoEndpointOptions<Request>, 'onSignIn'>;

/** Maps the verified address to your user: done(null, user), or done(null, false) to refuse. */
export type BssoVerify = (
  email: string,
  done: (err: unknown, user?: Express.User | false, info?: object) => void,
) => void;

/** What a refused delivery tells Passport (and `failureMessage` stores: the message). */
export interface BssoFailure {
  message: string;
  code: string;
}

export class BssoStrategy extends Strategy {
  name = 'bsso';
  readonly endpoint: BssoEndpoint<Request>;
  readonly core: SiteCore;
  // Not a #private field: Passport calls authenticate on an object derived from the strategy.
  readonly verify: BssoVerify;

  constructor(options: BssoStrategyOptions, verify: BssoVerify) {
    super();
    if (typeof verify !== 'function') throw new TypeError('BssoStrategy needs a verify callback.');
    this.endpoint = createBssoEndpoint<Request>(options);
    this.core = this.endpoint.core;
    this.verify = verify;
  }

  /** The delivery POST: rate limit, request shape and verification, then verify(email). */
  override authenticate(req: Request): void {
    this.endpoint
      .verifyDelivery(siteRequest(req))
      .then(
        ({ email, returnTo }) => {
          this.verify(email, (err, user, info) => {
            if (err) return this.error(err as Error);
            if (!user) return this.fail(info ?? { message: 'This sign-in was refused.' }, 403);
            // The page the sign-in started from, for successReturnToOrRedirect (with
            // keepSessionInfo: Passport's login regenerates the session).
            const session = (req as { session?: { returnTo?: string } }).session;
            if (session && returnTo !== '/') session.returnTo = returnTo;
            this.success(user, info);
          });
        },
        (err: unknown) => {
          if (err instanceof BssoError) this.fail(failure(err), err.status);
          else this.error(err as Error);
        },
      )
      .catch((err: unknown) => this.error(err as Error));
  }
}

/**
 * The rest of the endpoint for a Passport app: the challenge GET, POST <endpoint>/signout
 * (same origin only; req.logout, then 303 to '/'), 405 for other methods. Mount it before
 * your `app.post(<endpoint path>, passport.authenticate('bsso', ...))`.
 */
export function bssoRoutes(strategy: BssoStrategy): Router {
  const { endpoint } = strategy;
  const router = express.Router();
  router.use((req, res, next) => {
    const path = req.path;
    if (path !== endpoint.paths.endpoint && path !== endpoint.paths.signOut) return next();
    const request = siteRequest(req);
    // The start page's form POST (the web flow) is the core's; a delivery is Passport's.
    const start = req.query.bsso === START_QUERY;
    if (path === endpoint.paths.endpoint && req.method === 'POST' && !start) return next();
    if (path === endpoint.paths.signOut && req.method === 'POST') {
      try {
        endpoint.checkSameOrigin(request);
      } catch (err) {
        return writeAnswer(res, endpoint.errorAnswer(err, request));
      }
      return req.logout((err) => {
        if (err) return next(err);
        res.set('Cache-Control', 'no-store').redirect(303, '/');
      });
    }
    endpoint.handle(request).then((answer) => (answer ? writeAnswer(res, answer) : next()), next);
  });
  return router;
}

function siteRequest(req: Request): SiteRequest<Request> {
  // Express honours the app's 'trust proxy' in req.ip.
  return fromNode(req, req, req.url, req.ip ?? req.socket.remoteAddress, () => bodyOf(req));
}

function failure(err: BssoError): BssoFailure {
  return { message: errorCodes[err.code].description, code: err.code };
}
