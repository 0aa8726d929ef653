// `npm start`: the provider at https://mail.test and the demo site at https://site.test on
// this machine, with a throwaway CA, a demo account, and the Chromium command that shows them.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createProvider } from '@bsso/email-provider';
import { testNetwork } from '@bsso/protocol/testing';
import { createDemoSite } from '@bsso/relying-site/demo';
import { CHROMIUM_PATH, EXTENSION_DIR } from './browser.ts';
import { DEMO_BROKER_NAMES, startDemoBroker } from './demo-broker.ts';
import { chromiumNetworkArgs, routeNodeFetch, serveHttps } from './network.ts';
import { makeTestPki } from './pki.ts';
import { PROVIDER_NAME, SITE_ENDPOINT, SITE_NAME } from './topology.ts';

const DEMO_USER = { email: 'alice@mail.test', password: 'alice-demo-password' };

async function main(): Promise<void> {
  const dataDir = resolve(import.meta.dirname, '../../.data/demo-provider');
  mkdirSync(dataDir, { recursive: true });
  const pki = makeTestPki([PROVIDER_NAME, SITE_NAME, ...DEMO_BROKER_NAMES]);
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
  // The fallback broker for addresses of domains without a provider (plain.test).
  const demoBroker = await startDemoBroker(pki, mail.port);
  const network = testNetwork({
    hosts: { [PROVIDER_NAME]: mail.port, ...demoBroker.hosts },
    ca: pki.caPem,
  });
  const site = await serveHttps(
    SITE_NAME,
    pki,
    createDemoSite({
      endpoint: SITE_ENDPOINT,
      outbound: { network },
      fallbackBrokers: ['https://broker.test'],
    }),
    Number(process.env.BSSO_DEMO_SITE_PORT ?? 9443),
  );
  routeNodeFetch([mail, site, ...demoBroker.sites], pki);
  const flags = chromiumNetworkArgs([mail, site, ...demoBroker.sites], pki).map((f) => `'${f}'`);
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
and you are back at site.test signed in.

An address without a provider (the fallback broker, https://broker.test): in the extension's
options set the fallback broker to https://broker.test and add any address of plain.test
(e.g. you@plain.test), click "Sign in with your email" on site.test, ask for a code in the
broker's window, and read it at https://mailbox.test (the demo SMTP server on
127.0.0.1:${demoBroker.smtpPort} receives the mail). The next sign-in is one click.
Ctrl-C stops the demo.
`);
}

await main();
