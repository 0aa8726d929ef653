// The provider's URL paths; the configuration document names the protocol ones.
import { PROVIDER_CONFIG_PATH } from '@bsso/protocol';
export const paths = {
  webfinger: '/.well-known/webfinger',
  configuration: PROVIDER_CONFIG_PATH,
  assertion: '/bsso/assertion',
  association: '/bsso/association',
  verification: '/bsso/verify',
  signin: '/signin',
  signinDone: '/signin/done',
  /** Sign-in through the upstream OpenID provider (the oidc account back-end). */
  signinUpstream: '/signin/upstream',
  signinUpstreamCallback: '/signin/upstream/callback',
  signout: '/signout',
  signup: '/signup',
  account: '/account',
  /** The web flow's endpoint (protocol-spec.md#web-flow). */
  web: '/bsso/web',
  /** Withdraws one site's web-flow agreement (the account page's Forget buttons). */
  accountForgetSite: '/account/sites/forget',
} as const;
