// `npm start`: the provider at https://mail.test and the demo site at https://site.test on
// this machine, with a throwaway CA, a demo account, and the Chromium command that shows them.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createProvider } from '@bsso/email-provider';
import { testNetwork } from '@bsso/protocol/testing';
import { createDemoSite } from '@bsso/relying-site/demo';
import { CHROMIUM_PATH, EXTENSION_DIR } from './browser.ts';
import { chromiumNetworkArgs, routeNodeFetch, serveHttps } from './network.ts';
import { makeTestPki } from './pki.ts';
import { PROVIDER_NAME, SITE_ENDPOINT, SITE_NAME } from './topology.ts';

const DEMO_USER = { email: 'alice@mail.test', password: 'alice-demo-password' };

async function main(): Promise<void> {
  const dataDir = resolve(import.meta.dirname, '../../.data/demo-provider');
  mkdirSync(dataDir, { recursive: true });
  const pki = makeTestPki([PROVIDER_NAME, SITE_NAME]);
  const provider = await createProvider({
    issuer: `https://${PROVIDER_NAME}`,
    domains: [PROVIDER_NAME],
    dataDir,
  });
  if (!(await provider.accounts.list()).includes(DEMO_USER.email)) {
    await provider.accounts.create(DEMO_USER.email, DEMO_USER.password);
  }
  const mail = await serveHttps(
    PROVIDER_NAME,
    pki,
    provider.app,
    Number(process.env.BSSO_DEMO_MAIL_PORT ?? 8443),
  );
  const network = testNetwork({ hosts: { [PROVIDER_NAME]: mail.port }, ca: pki.caPem });
  const site = await serveHttps(
    SITE_NAME,
    pki,
    createDemoSite({ endpoint: SITE_ENDPOINT, outbound: { network } }),
    Number(process.env.BSSO_DEMO_SITE_PORT ?? 9443),
  );
  routeNodeFetch([mail, site], pki);
  const flags = chromiumNetworkArgs([mail, site], pki).map((f) => `'${f}'`);
  console.log(`
BSSO demo is running.
  provider  https://${PROVIDER_NAME}  (127.0.0.1:${mail.port})   account ${DEMO_USER.email} / ${DEMO_USER.password}
  site      https://${SITE_NAME}  (127.0.0.1:${site.port})

The built extension is in
  ${EXTENSION_DIR}
Open a browser that maps the demo names to these ports, trusts the demo certificate and
loads the extension:
  ${CHROMIUM_PATH} --user-data-dir=$(mktemp -d) --load-extension=${EXTENSION_DIR} \\
    ${flags.join(' \\\n    ')} \\
    https://mail.test/signin https://site.test/
Then: sign in at mail.test, add ${DEMO_USER.email} in the extension's options page,
and click "Sign in with your email" on site.test.

Without the extension (the web flow), drop --load-extension:
  ${CHROMIUM_PATH} --user-data-dir=$(mktemp -d) \\
    ${flags.join(' \\\n    ')} \\
    https://site.test/
Click "Sign in with your email", give ${DEMO_USER.email}, sign in at mail.test, agree once,
and you are back at site.test signed in. Ctrl-C stops the demo.
`);
}

await main();
