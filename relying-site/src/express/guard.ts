// requireSignIn(): a route guard. Browsers go to the home page to sign in (with a safe
// return path); API callers get 401 login_required.
import { safeReturnPath } from '@bsso/protocol';
import type { RequestHandler } from 'express';
import { prefersJson } from '../core/negotiate.ts';

export function requireSignIn(): RequestHandler {
  return (req, res, next) => {
    if (req.bsso?.email) {
      next();
      return;
    }
    res.set('Cache-Control', 'no-store');
    if (prefersJson(req.headers.accept)) {
      res.status(401).json({ error: 'login_required', error_description: 'Sign in first.' });
      return;
    }
    const returnTo = safeReturnPath(req.originalUrl);
    res.redirect(303, `/?return_to=${encodeURIComponent(returnTo)}`);
  };
}
