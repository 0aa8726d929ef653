// bsso(options): an Express Router serving the site's BSSO endpoint and setting `req.bsso`.
import { BssoError, CHALLENGE_QUERY, limits } from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import {
  BROWSER_COOKIE,
  browserCookie,
  clearSessionCookie,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
} from '../core/cookies.ts';
import {
  checkContentType,
  checkDeclaredLength,
  parseDeliveryForm,
  readBody,
} from '../core/delivery.ts';
import type { SiteCoreOptions } from '../core/options.ts';
import { createSiteCore, type SiteCore } from '../core/site-core.ts';
import { sendError } from './respond.ts';
import './request-state.ts';

export interface BssoOptions extends SiteCoreOptions {
  /** Called after verification, before the session exists: map the address to an account. */
  onSignIn?: (email: string, req: Request) => Promise<void> | void;
}

type Handler = (req: Request, res: Response) => Promise<void>;

export function bsso(options: BssoOptions): Router & { core: SiteCore } {
  const core = createSiteCore(options);
  const path = core.endpoint.pathname;
  const router = express.Router() as Router & { core: SiteCore };
  router.core = core;

  const wrap =
    (handler: Handler, json = false) =>
    (req: Request, res: Response, _next: NextFunction) => {
      handler(req, res).catch((err: unknown) => {
        logFailure(err);
        sendError(req, res, err, json);
      });
    };

  // Every request learns who is signed in; a failing session store means "nobody".
  router.use((req: Request, _res: Response, next: NextFunction) => {
    core.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE)).then(
      (session) => {
        req.bsso = { email: session?.email ?? null };
        next();
      },
      (err: unknown) => {
        logFailure(err);
        req.bsso = { email: null };
        next();
      },
    );
  });

  router.get(path, wrap(challenge(core), true));
  router.post(path, wrap(deliver(core, options.onSignIn)));
  router.post(`${path}/signout`, wrap(signOut(core)));
  router.all([path, `${path}/signout`], (req, res) =>
    sendError(req, res, new BssoError('method_not_allowed'), true),
  );
  return router;
}

/** GET <endpoint>?bsso=challenge&domain=<domain>: a nonce bound to this browser. */
function challenge(core: SiteCore): Handler {
  return async (req, res) => {
    await core.limit(clientOf(req));
    if (req.query.bsso !== CHALLENGE_QUERY) {
      throw new BssoError('invalid_request', 'Ask for a challenge with bsso=challenge.');
    }
    let browserId = readCookie(req.headers.cookie, BROWSER_COOKIE);
    if (browserId === undefined) {
      browserId = core.newBrowserId();
      res.append('Set-Cookie', browserCookie(browserId));
    }
    const answer = await core.challenge({ browserId, domain: req.query.domain });
    res.set('Cache-Control', 'no-store').json(answer);
  };
}

/** POST <endpoint> (form: assertion, return_to): checks before crypto, then verification. */
function deliver(core: SiteCore, onSignIn: BssoOptions['onSignIn']): Handler {
  return async (req, res) => {
    await core.limit(clientOf(req));
    checkContentType(req.headers['content-type']);
    checkDeclaredLength(req.headers['content-length'], limits.maxRequestBodyBytes);
    const form = parseDeliveryForm(await readBody(req, limits.maxRequestBodyBytes));
    const browserId = readCookie(req.headers.cookie, BROWSER_COOKIE);
    const { email } = await core.verify({ browserId, assertion: form.assertion });
    await onSignIn?.(email, req);
    await core.sessions.destroy(readCookie(req.headers.cookie, SESSION_COOKIE));
    const session = await core.sessions.create(email);
    res.append('Set-Cookie', sessionCookie(session.id, session.maxAgeSeconds));
    res.set('Cache-Control', 'no-store').redirect(303, form.returnTo);
  };
}

/** POST <endpoint>/signout from the site's own pages only. */
function signOut(core: SiteCore): Handler {
  return async (req, res) => {
    const origin = req.headers.origin;
    const fetchSite = req.headers['sec-fetch-site'];
    // Fetch metadata when the browser sends it; else the Origin header. A page with
    // `Referrer-Policy: no-referrer` makes the browser send `Origin: null` on its own forms.
    const sameOrigin =
      fetchSite !== undefined ? fetchSite === 'same-origin' : origin === core.endpoint.origin;
    if (!sameOrigin) throw new BssoError('origin_not_allowed', 'Sign out from the site itself.');
    await core.sessions.destroy(readCookie(req.headers.cookie, SESSION_COOKIE));
    res.append('Set-Cookie', clearSessionCookie());
    res.set('Cache-Control', 'no-store').redirect(303, '/');
  };
}

/** The client's rate-limit key: its address (Express honours the app's 'trust proxy'). */
function clientOf(req: Request): string {
  return clientKey(req.ip ?? req.socket.remoteAddress);
}

// Codes only: a message could carry an origin, never an assertion, but keep logs minimal.
function logFailure(err: unknown): void {
  if (!(err instanceof BssoError)) console.error('bsso: unexpected error', (err as Error)?.name);
}
