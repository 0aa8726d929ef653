// The demo site: a home page with the BSSO markup and a members page behind requireSignIn().
// Export only; demo/main.ts listens.
import { randomBytes } from 'node:crypto';
import { PAGE_LINK_REL, SIGN_IN_BUTTON_ID, START_QUERY, safeReturnPath } from '@bsso/protocol';
import express, { type Express, type Response } from 'express';
import { type BssoOptions, bsso, pageChallenge, requireSignIn } from '../src/index.ts';

export interface DemoSiteOptions extends BssoOptions {
  /** Shown in the page title and header. Default 'BSSO demo site'. */
  siteName?: string;
}

export function createDemoSite(options: DemoSiteOptions): Express {
  const { siteName = 'BSSO demo site', ...bssoOptions } = options;
  // With deliveryAnswer: 'page' the delivery is answered with the signed-in page itself.
  const router = bsso(bssoOptions);
  const endpoint = router.core.endpoint;
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    const nonce = randomBytes(16).toString('base64');
    res.locals.cspNonce = nonce;
    res.set({
      'Content-Security-Policy': [
        "default-src 'none'",
        `style-src 'nonce-${nonce}'`,
        `script-src 'nonce-${nonce}'`,
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ].join('; '),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
    next();
  });
  app.use(router);

  app.get('/', async (req, res) => {
    const email = req.bsso.email;
    const returnTo = safeReturnPath(req.query.return_to);
    // Signed in and sent here by the guard: go back where the user was heading.
    if (email && returnTo !== '/') {
      res.redirect(303, returnTo);
      return;
    }
    const account = email
      ? `<p id="signed-in-as">Signed in as <strong>${escapeHtml(email)}</strong></p>
      <form method="post" action="${escapeHtml(endpoint.pathname)}/signout">
        <button type="submit" class="secondary">Sign out</button>
      </form>
      <p><a href="/members">Members area</a></p>`
      : `<p id="signed-out">You are not signed in.</p>`;
    // The button is a link to the start page (protocol-spec.md#web-flow): with the extension a
    // click signs in at once; without it, the link leads through the provider's web endpoint.
    const start = new URLSearchParams({ bsso: START_QUERY });
    if (returnTo !== '/') start.set('return_to', returnTo);
    // Signed out: a nonce in the page, so a sign-in needs no challenge request.
    const linkExtra = email ? '' : await pageChallenge(router, req, res);
    page(res, siteName, endpoint.href, {
      linkExtra,
      delivered: req.bsso.delivered,
      title: siteName,
      body: `<p>Sign in with your email address. No password here.</p>
      <a id="${SIGN_IN_BUTTON_ID}" class="button" href="${escapeHtml(`${endpoint.pathname}?${start}`)}">Sign in with your email</a>
      ${account}`,
    });
  });

  app.get('/members', requireSignIn(), (req, res) => {
    page(res, siteName, endpoint.href, {
      title: `Members · ${siteName}`,
      delivered: req.bsso.delivered,
      body: `<p id="members-email">Welcome, <strong>${escapeHtml(req.bsso.email ?? '')}</strong>.</p>
      <p>Only signed-in visitors see this page.</p><p><a href="/">Home</a></p>`,
    });
  });

  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  return app;
}

function page(
  res: Response,
  siteName: string,
  endpointHref: string,
  content: { title: string; body: string; linkExtra?: string; delivered?: string | undefined },
): void {
  const nonce = String(res.locals.cspNonce);
  res
    .set('Cache-Control', 'no-store')
    .type('html')
    .send(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(content.title)}</title>
  <link rel="${PAGE_LINK_REL}" href="${escapeHtml(endpointHref)}"${content.linkExtra ?? ''}>
  <style nonce="${nonce}">
    :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
    body { max-width: 36rem; margin: 4rem auto; padding: 0 1.25rem; line-height: 1.5; }
    h1 { font-size: 1.6rem; margin-bottom: 1.5rem; }
    button { font: inherit; padding: .6rem 1.1rem; border-radius: .5rem; border: 0;
      background: #2f5bd3; color: #fff; cursor: pointer; }
    a.button { display: inline-block; text-decoration: none; padding: .6rem 1.1rem;
      border-radius: .5rem; background: #2f5bd3; color: #fff; }
    button.secondary { background: transparent; color: inherit; border: 1px solid #8888; }
    #signed-in-as, #signed-out { margin-top: 2rem; padding: .8rem 1rem; border-radius: .5rem;
      background: #8881; }
  </style>
</head>
<body>${
      // The answer to the delivery POST: its URL becomes the page's own, so a reload is a GET.
      content.delivered === undefined
        ? ''
        : `
  <script nonce="${nonce}">history.replaceState(null, '', ${JSON.stringify(content.delivered).replace(/</g, '\\u003c')});</script>`
    }
  <h1>${escapeHtml(siteName)}</h1>
  ${content.body}
</body>
</html>
`);
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
