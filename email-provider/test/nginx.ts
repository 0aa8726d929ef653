// Debian's nginx in tests lives in @bsso/protocol/testing (the site's sidecar tests use it
// too); kept here so the provider's tests import it as before.
export {
  freePort,
  NGINX,
  type Nginx,
  nginxMissing,
  requireNginx,
  startNginx,
  startNginxHttp,
} from '@bsso/protocol/testing';
