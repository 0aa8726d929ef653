// bsso(options): an Express Router serving the site's BSSO endpoint and setting `req.bsso`.
// A thin adapter: the core (../core/endpoint.ts) runs the whole flow and says what to send.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SiteAnswer } from '../core/answers.ts';
import { readCookie, SESSION_COOKIE } from '../core/cookies.ts';
import { type BssoEndpointOptions, createBssoEndpoint } from '../core/endpoint.ts';
import type { SiteCore } from '../core/site-core.ts';
import { fromNode, writeAnswer } from '../node/answer.ts';
import { bodyOf } from './body.ts';
import './request-state.ts';

export interface BssoOptions extends BssoEndpointOptions<Request> {}

export function bsso(options: BssoOptions): Router & { core: SiteCore } {
  const endpoint = createBssoEndpoint<Request>(options);
  const router = express.Router() as Router & { core: SiteCore };
  router.core = endpoint.core;

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
    answer.then((a) => (a ? writeAnswer(res, a) : next()), next);
  });
  return router;
}
