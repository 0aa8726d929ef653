// @bsso/relying-site: accept BSSO sign-in on an Express site.
//   app.use(bsso({ endpoint: 'https://site.example/bsso' }));
//   app.get('/members', requireSignIn(), (req, res) => res.send(req.bsso.email));
export type * from './core/index.ts';
export { createMemoryRequestRateLimiter, createSiteCore } from './core/index.ts';
export { requireSignIn } from './express/guard.ts';
export type { BssoRequestState } from './express/request-state.ts';
export { type BssoOptions, bsso } from './express/router.ts';
