// bsso(options): an Express Router serving the site's BSSO endpoint and setting `req.bsso`.
// A thin adapter: the core (../core/endpoint.ts) runs the whole flow and says what to send.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SiteAnswer } from '../core/answers.ts';
import { readCookie, SESSION_COOKIE } from '../core/cookies.ts';
import {
  type BssoEndpointOptions,
  createBssoEndpoint,
  isSignedInAnswer,
  type SignedInAnswer,
} from '../core/endpoint.ts';
import type { SiteCore } from '../core/site-core.ts';
import { fromNode, writeAnswer } from '../node/answer.ts';
import { bodyOf } from './body.ts';
import './request-state.ts';

export interface BssoOptions extends BssoEndpointOptions<Request> {}

export function bsso(options: BssoOptions): Router & { core: SiteCore } {
  const endpoint = createBssoEndpoint<Request>(options);
  const router = express.Router() as Router & { core: SiteCore };
  router.core = endpoint.core;
  const pageAnswer = options.deliveryAnswer === 'page';

  // Every request learns who is signed in (a failing session store means "nobody"); the
  // endpoint's own paths are answered here, every other request goes on.
  router.use((req: Request, res: Response, next: NextFunction) => {
    const serve = (email: string | null): Promise<SiteAnswer | null> => {
      req.bsso = { email };
      // Express honours the app's 'trust proxy' in req.ip.
      const address = req.ip ?? req.socket.remoteAddress;
      return endpoint.handle(fromNode(req, req, req.url, address, () => bodyOf(req)));
    };
    let answer: Promise<SiteAnswer | null>;
    const cookie = req.headers.cookie;
    try {
      // Without a session cookie nobody is signed in: no session read, no extra async step
      // (a delivery never has one yet in the common case).
      answer =
        readCookie(cookie, SESSION_COOKIE) === undefined
          ? serve(null)
          : endpoint.email(cookie).then(serve);
    } catch (err) {
      next(err);
      return;
    }
    answer.then((a) => {
      if (a === null) next();
      else if (pageAnswer && isSignedInAnswer(a)) showPage(req, res, next, a);
      else writeAnswer(res, a);
    }, next);
  });
  return router;
}

/**
 * `deliveryAnswer: 'page'`: the delivery POST goes on to the app as a GET of the return path,
 * signed in, and the app's own route answers it with the new session's cookie (one
 * navigation less than the 303; protocol-spec.md#delivery).
 */
function showPage(req: Request, res: Response, next: NextFunction, answer: SignedInAnswer): void {
  const { email, returnTo } = answer.signedIn;
  for (const cookie of answer.setCookies) res.append('Set-Cookie', cookie);
  res.set('Cache-Control', 'no-store');
  req.method = 'GET';
  req.url = returnTo;
  req.bsso = { email, delivered: returnTo };
  next();
}
