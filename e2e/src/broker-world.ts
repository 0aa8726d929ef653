// The fallback broker world (protocol-spec.md#fallback): the demo site at https://site.test
// listing https://broker.test as its fallback broker, the provider of mail.test, a domain
// plain.test that names no provider (its WebFinger answers 404), the broker (the email
// provider in broker mode) and a real SMTP server (smtp-server, STARTTLS and auth, on a port
// from the OS) that receives the code mails over the network; Chromium with the extension.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider, type Provider, silentLogger } from '@bsso/email-provider';
import { type ReceivedMail, startTestMailServer, testNetwork } from '@bsso/protocol/testing';
import { createDemoSite } from '@bsso/relying-site/demo';
import { type ExtensionBrowser, launchWithExtension } from './browser.ts';
import type { TestIdp } from './idp.ts';
import { chromiumNetworkArgs, type HttpsSite, routeNodeFetch, serveHttps } from './network.ts';
import { makeTestPki, type TestPki } from './pki.ts';
import { IDP_NAME, RequestLog, SITE_ENDPOINT } from './topology.ts';

export const BROKER = 'https://broker.test';
const SMTP_USER = 'broker';
const SMTP_PASS = 'smtp secret of the test';

export interface BrokerWorld {
  pki: TestPki;
  provider: Provider;
  broker: Provider;
  /** The broker's data directory (its signing key file). */
  brokerDataDir: string;
  brokerLog: RequestLog;
  siteLog: RequestLog;
  site: HttpsSite;
  browser: ExtensionBrowser;
  /** The Chromium flags of this world's names, for another browser (one without the extension). */
  networkArgs: string[];
  mails: ReceivedMail[];
  /** The code of the last mail to `to`, read from the message as received. */
  codeFor(to: string): string;
  close(): Promise<void>;
}

export interface BrokerWorldOptions {
  /** Bridge corp.test (a domain without a provider) to this OpenID provider at idp.test. */
  idp?: TestIdp;
}

export async function startBrokerWorld(options: BrokerWorldOptions = {}): Promise<BrokerWorld> {
  const pki = makeTestPki([
    'site.test',
    'mail.test',
    'broker.test',
    'plain.test',
    'smtp.test',
    'corp.test',
    IDP_NAME,
  ]);
  const dirs = [mkdtempSync(join(tmpdir(), 'bsso-e2e-')), mkdtempSync(join(tmpdir(), 'bsso-e2e-'))];
  const smtp = await startTestMailServer({ cert: pki, user: SMTP_USER, pass: SMTP_PASS });
  const { mails } = smtp;
  const smtpPort = smtp.port;

  // plain.test: a web server without BSSO (WebFinger 404).
  const plain = await serveHttps('plain.test', pki, (_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
  });
  const provider = await createProvider({
    issuer: 'https://mail.test',
    domains: ['mail.test'],
    dataDir: dirs[0] as string,
    logger: silentLogger,
  });
  const providerSite = await serveHttps('mail.test', pki, provider.app);
  // corp.test has no provider either (the same 404 server).
  const outboundHosts = {
    'plain.test': plain.port,
    'corp.test': plain.port,
    'mail.test': providerSite.port,
  };
  const idp = options.idp ? await serveHttps(IDP_NAME, pki, options.idp.handler) : undefined;
  const broker = await createProvider({
    issuer: BROKER,
    domains: ['broker.test'],
    dataDir: dirs[1] as string,
    logger: silentLogger,
    broker: {
      smtp: {
        host: '127.0.0.1',
        port: smtpPort,
        auth: { user: SMTP_USER, pass: SMTP_PASS },
        ca: pki.caPem,
        servername: 'smtp.test',
      },
      from: 'BSSO broker <no-reply@broker.test>',
      network: testNetwork({ hosts: outboundHosts, ca: pki.caPem }),
      ...(options.idp
        ? {
            bridges: {
              'corp.test': {
                issuer: options.idp.issuer,
                clientId: options.idp.clientId,
                clientSecret: options.idp.clientSecret,
              },
            },
          }
        : {}),
    },
  });
  const brokerLog = new RequestLog();
  const brokerSite = await serveHttps('broker.test', pki, brokerLog.wrap(broker.app));
  const siteLog = new RequestLog();
  const site = await serveHttps(
    'site.test',
    pki,
    siteLog.wrap(
      createDemoSite({
        endpoint: SITE_ENDPOINT,
        fallbackBrokers: [BROKER],
        outbound: {
          network: testNetwork({
            hosts: { ...outboundHosts, 'broker.test': brokerSite.port },
            ca: pki.caPem,
          }),
        },
      }),
    ),
  );
  const named = [
    site,
    providerSite,
    brokerSite,
    plain,
    { name: 'corp.test', port: plain.port },
    ...(idp ? [idp] : []),
  ];
  const restoreFetch = routeNodeFetch(named, pki);
  const networkArgs = chromiumNetworkArgs(named, pki);
  const browser = await launchWithExtension(networkArgs);
  return {
    networkArgs,
    pki,
    provider,
    broker,
    brokerDataDir: dirs[1] as string,
    brokerLog,
    siteLog,
    site,
    browser,
    mails,
    codeFor(to) {
      const mail = mails.findLast((m) => m.to.includes(to));
      const code = mail && /Your sign-in code is (\d{6})/.exec(mail.raw)?.[1];
      if (!code) throw new Error(`no code mailed to ${to}`);
      return code;
    },
    async close() {
      await browser.close();
      restoreFetch();
      for (const s of [site, brokerSite, providerSite, plain, ...(idp ? [idp] : [])]) {
        await s.close();
      }
      await broker.close();
      await provider.close();
      await smtp.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
