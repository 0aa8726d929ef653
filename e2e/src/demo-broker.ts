// The fallback broker of `npm start` (protocol-spec.md#fallback): a local SMTP server
// (smtp-server, STARTTLS and auth) that keeps what it receives, a page listing the received
// mail at https://mailbox.test, a domain without a provider (https://plain.test, WebFinger
// 404) and the email provider in broker mode at https://broker.test. A newcomer signs in as
// any address of plain.test by reading the code on the mailbox page.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createProvider, type Provider } from '@bsso/email-provider';
import { startTestMailServer, testNetwork } from '@bsso/protocol/testing';
import { type HttpsSite, serveHttps } from './network.ts';
import type { TestPki } from './pki.ts';

export const BROKER_NAME = 'broker.test';
export const MAILBOX_NAME = 'mailbox.test';
export const PLAIN_NAME = 'plain.test';
/** Names the demo certificate must cover for the broker part. */
export const DEMO_BROKER_NAMES = [BROKER_NAME, MAILBOX_NAME, PLAIN_NAME, 'smtp.test'];

const SMTP_USER = 'demo-broker';
const SMTP_PASS = 'demo-smtp-password';

interface Mail {
  at: Date;
  to: string;
  text: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The text part of a simple nodemailer message (7bit or quoted-printable). */
function textOf(raw: string): string {
  const body = raw
    .split(/\r?\n\r?\n/)
    .slice(1)
    .join('\n\n');
  return body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

export interface DemoBroker {
  broker: Provider;
  sites: HttpsSite[];
  /** Names and ports the demo site's outbound guard may reach for the broker part. */
  hosts: Record<string, number>;
  smtpPort: number;
}

export async function startDemoBroker(pki: TestPki, providerPort: number): Promise<DemoBroker> {
  // Newest first, the last 200, for the mailbox page.
  const mails: Mail[] = [];
  const smtp = await startTestMailServer({
    cert: pki,
    user: SMTP_USER,
    pass: SMTP_PASS,
    onMail: (mail) => {
      for (const to of mail.to) mails.unshift({ at: mail.at, to, text: textOf(mail.raw) });
      mails.length = Math.min(mails.length, 200);
      // The demo runs for long: the server's own list is not kept.
      smtp.mails.length = 0;
    },
  });
  const smtpPort = smtp.port;
  const mailbox = await serveHttps(MAILBOX_NAME, pki, (_req, res) => {
    const rows = mails
      .map(
        (m) =>
          `<article><h2>To ${escapeHtml(m.to)}</h2><p>${escapeHtml(m.at.toISOString())}</p><pre>${escapeHtml(m.text)}</pre></article>`,
      )
      .join('');
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'",
      'cache-control': 'no-store',
    });
    res.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>Demo mailbox</title></head><body><h1>Mail received by the demo SMTP server</h1>${rows || '<p>No mail yet.</p>'}</body></html>`,
    );
  });
  const plain = await serveHttps(PLAIN_NAME, pki, (_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
  });
  const dataDir = resolve(import.meta.dirname, '../../.data/demo-broker');
  mkdirSync(dataDir, { recursive: true });
  const broker = await createProvider({
    issuer: `https://${BROKER_NAME}`,
    domains: [BROKER_NAME],
    dataDir,
    broker: {
      smtp: {
        host: '127.0.0.1',
        port: smtpPort,
        auth: { user: SMTP_USER, pass: SMTP_PASS },
        ca: pki.caPem,
        servername: 'smtp.test',
      },
      from: 'BSSO demo broker <no-reply@broker.test>',
      network: testNetwork({
        hosts: { [PLAIN_NAME]: plain.port, 'mail.test': providerPort },
        ca: pki.caPem,
      }),
    },
  });
  const brokerSite = await serveHttps(
    BROKER_NAME,
    pki,
    broker.app,
    Number(process.env.BSSO_DEMO_BROKER_PORT ?? 0),
  );
  return {
    broker,
    sites: [brokerSite, mailbox, plain],
    hosts: { [BROKER_NAME]: brokerSite.port, [PLAIN_NAME]: plain.port },
    smtpPort,
  };
}
