// Optional self-service sign-up (off unless config.signupEnabled). Attempts count against
// the per-address limiter so the form cannot be used to mass-create accounts.
import { BssoError, parseEmail } from '@bsso/protocol';
import { clientKey } from '@bsso/protocol/client-address';
import { type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { CSRF_FIELD, csrfToken, csrfValid } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import { paths } from '../paths.ts';
import { field, formBody } from './forms.ts';
import { html, sendPage } from './html.ts';
import { FORM_EXPIRED, SIGNIN_THROTTLED } from './signin.ts';

function renderSignup(req: Request, res: Response, status: number, email: string, error = '') {
  const token = csrfToken(req, res);
  sendPage(
    res,
    status,
    'Create an account',
    html`<h1>Create an account</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${paths.signup}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus value="${email}">
<label for="password">Password (at least 8 characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="1024">
<button type="submit">Create account</button>
</form>
<p><a href="${paths.signin}">Sign in instead</a></p>`,
  );
}

export function signupRouter(ctx: ProviderContext): Router {
  const router = Router();
  if (!ctx.config.signupEnabled) return router;
  router.get(paths.signup, htmlSecurityHeaders, (req, res) => renderSignup(req, res, 200, ''));
  router.post(paths.signup, htmlSecurityHeaders, formBody(), async (req, res) => {
    const email = (field(req, 'email') ?? '').trim().slice(0, 254);
    const password = field(req, 'password') ?? '';
    if (!csrfValid(req)) return renderSignup(req, res, 403, email, FORM_EXPIRED);
    const now = ctx.config.now();
    const ipKey = clientKey(req.ip);
    if (!(await ctx.limiters.signinClient.take(ipKey, now))) {
      return renderSignup(req, res, 429, email, SIGNIN_THROTTLED);
    }
    try {
      await ctx.accounts.create(email, password);
    } catch (err) {
      if (!(err instanceof BssoError)) throw err;
      return renderSignup(req, res, 400, email, err.message);
    }
    await ctx.sessions.start(req, res, parseEmail(email).address);
    res.redirect(303, paths.account);
  });
  return router;
}
