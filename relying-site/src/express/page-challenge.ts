// A page challenge for an Express page (protocol-spec.md#page-challenge): the nonce for the
// endpoint link, and the browser cookie on the answer when the browser had none.
import type { Request, Response } from 'express';
import { pageChallengeHtml } from '../core/page-challenge.ts';
import type { SiteCore } from '../core/site-core.ts';

/**
 * The attributes to write into the page's endpoint link (see pageChallengeHtml), '' when page
 * challenges are off. The page must not be stored by shared caches (`Cache-Control: no-store`
 * or `private`): its nonce belongs to this browser.
 */
export async function pageChallenge(
  router: { core: SiteCore },
  req: Request,
  res: Response,
): Promise<string> {
  const page = await router.core.pageChallenge(req.headers.cookie);
  if (page?.setCookie) res.append('Set-Cookie', page.setCookie);
  return pageChallengeHtml(page?.challenge);
}
