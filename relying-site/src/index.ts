// @bsso/relying-site: accept BSSO sign-in on an Express site.
//   app.use(bsso({ endpoint: 'https://site.example/bsso' }));
//   app.get('/members', requireSignIn(), (req, res) => res.send(req.bsso.email));
//   // a page with the sign-in button: `<link rel="bsso_end_point" href="…"${attrs}>`
//   const attrs = await pageChallenge(router, req, res);
export type * from './core/index.ts';
export {
  createMemoryRequestRateLimiter,
  createSiteCore,
  pageChallengeHtml,
} from './core/index.ts';
export { requireSignIn } from './express/guard.ts';
export { pageChallenge } from './express/page-challenge.ts';
export type { BssoRequestState } from './express/request-state.ts';
export { type BssoOptions, bsso } from './express/router.ts';
