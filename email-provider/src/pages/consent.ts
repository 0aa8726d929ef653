// The account page's list of sites the account agreed to sign in to through the web flow,
// and POST /account/sites/forget, which withdraws one agreement: the next web sign-in at
// that site asks again (protocol-spec.md#web-flow).
import { parseSecureUrl } from '@bsso/protocol';
import { Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { CSRF_FIELD, csrfValid } from '../http/csrf.ts';
import { htmlSecurityHeaders } from '../http/security-headers.ts';
import { paths } from '../paths.ts';
import type { ConsentRecord } from '../storage/types.ts';
import { field, formBody } from './forms.ts';
import { html, type SafeHtml, sendPage } from './html.ts';
import { FORM_EXPIRED } from './signin-page.ts';

export const SITE_FIELD = 'site';

/** The agreements as a section of the account page, each with its Forget button. */
export function renderConsents(consents: ConsentRecord[], csrf: string): SafeHtml {
  if (consents.length === 0) {
    return html`<h2>Sites you agreed to sign in to</h2>
<p>None yet. Sites you sign in to without the extension ask you once.</p>`;
  }
  const rows = consents.map((c) => {
    const when = new Date(c.grantedAt).toISOString();
    return html`<tr><td>${c.siteOrigin}</td><td><time datetime="${when}">${when.replace('T', ' ').slice(0, 16)} UTC</time></td>
<td><form method="post" action="${paths.accountForgetSite}">
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<input type="hidden" name="${SITE_FIELD}" value="${c.siteOrigin}">
<button type="submit" aria-label="Forget ${c.siteOrigin}">Forget</button>
</form></td></tr>`;
  });
  return html`<h2>Sites you agreed to sign in to</h2>
<table><thead><tr><th scope="col">Site</th><th scope="col">Agreed</th><th scope="col"></th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

export function consentRouter(ctx: ProviderContext): Router {
  const router = Router();
  router.post(paths.accountForgetSite, htmlSecurityHeaders, formBody(), async (req, res) => {
    if (!csrfValid(req)) {
      sendPage(res, 403, 'Your account', html`<p role="alert">${FORM_EXPIRED}</p>`);
      return;
    }
    const session = await ctx.sessions.current(req);
    if (!session) {
      res.redirect(303, paths.signin);
      return;
    }
    const site = field(req, SITE_FIELD) ?? '';
    let origin: string;
    try {
      origin = parseSecureUrl(site, ctx.config.urlPolicy).origin;
    } catch {
      origin = '';
    }
    if (origin === '' || origin !== site) {
      sendPage(res, 400, 'Your account', html`<p role="alert">That is not a site origin.</p>`);
      return;
    }
    await ctx.stores.consents.revoke(session.email, origin);
    ctx.config.logger.info('consent_withdrawn', { site: origin });
    res.redirect(303, paths.account);
  });
  return router;
}
