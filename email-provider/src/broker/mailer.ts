// The broker's mail (protocol-spec.md#fallback, duty 5): one-time codes over real SMTP with
// nodemailer, STARTTLS required (or TLS on connect), authenticated when configured, DKIM
// optional. A mail server that does not take the message is reported, never hidden.
import nodemailer from 'nodemailer';
import type { ResolvedBrokerOptions } from './options.ts';

export interface Mailer {
  /** Sends the code; resolves false when the mail server did not take the message. */
  sendCode(to: string, code: string, minutes: number): Promise<boolean>;
  close(): void;
}

export function createMailer(options: ResolvedBrokerOptions): Mailer {
  const { smtp } = options;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure === true,
    requireTLS: smtp.secure !== true,
    ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.pass } } : {}),
    tls: {
      ...(smtp.ca ? { ca: smtp.ca } : {}),
      ...(smtp.servername ? { servername: smtp.servername } : {}),
    },
    ...(smtp.dkim ? { dkim: smtp.dkim } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async sendCode(to, code, minutes) {
      try {
        // `to` is a parsed address (no CR, LF or other control characters): no header injection.
        await transport.sendMail({
          from: options.from,
          to,
          subject: `Your sign-in code: ${code}`,
          text: `Your sign-in code is ${code}\n\nIt is valid for ${minutes} minutes, in the browser where you asked for it.\nIf you did not ask for it, ignore this mail.\n`,
        });
        return true;
      } catch {
        return false;
      }
    },
    close: () => transport.close(),
  };
}
