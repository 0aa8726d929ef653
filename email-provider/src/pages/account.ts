// GET /account: who is signed in, and the sites they signed in to recently (from the
// issued-assertion log), with a sign-out button.
import { Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { CSRF_FIELD, csrfToken } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import { paths } from '../paths.ts';
import { renderConsents } from './consent.ts';
import { html, sendPage } from './html.ts';
import { accountPasskeys, renderPasskeySection } from './passkeys.ts';

const RECENT_DAYS = 30;
const RECENT_LIMIT = 50;

export function accountRouter(ctx: ProviderContext): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.redirect(303, paths.account);
  });
  router.get(paths.account, htmlSecurityHeaders, async (req, res) => {
    const session = await ctx.sessions.current(req);
    if (!session) {
      res.redirect(303, paths.signin);
      return;
    }
    const since = ctx.config.now() - RECENT_DAYS * 86_400_000;
    const sites = await ctx.stores.issuedLog.recentSites(session.email, since, RECENT_LIMIT);
    const rows = sites.map((s) => {
      const when = new Date(s.lastIssuedAt).toISOString();
      return html`<tr><td>${s.siteOrigin}</td><td><time datetime="${when}">${when.replace('T', ' ').slice(0, 16)} UTC</time></td><td>${s.count}</td></tr>`;
    });
    const token = csrfToken(req, res);
    const consents = await ctx.stores.consents.list(session.email);
    const passkeys = await accountPasskeys(ctx, session.email);
    sendPage(
      res,
      200,
      'Your account',
      html`<h1>Your account</h1>
<p>Signed in as <strong>${session.email}</strong>.</p>
<h2>Sites you signed in to recently</h2>
${
  sites.length === 0
    ? html`<p>None in the last ${RECENT_DAYS} days.</p>`
    : html`<table><thead><tr><th scope="col">Site</th><th scope="col">Last sign-in</th><th scope="col">Times</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
${renderConsents(consents, token)}
${renderPasskeySection(ctx, passkeys, token)}
<form method="post" action="${paths.signout}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<button type="submit">Sign out</button>
</form>`,
    );
  });
  return router;
}
