// A real SMTP server for tests and the demo (smtp-server): it receives mail over the network
// on a loopback port from the OS, offers STARTTLS with the given certificate, requires AUTH
// with one user, and keeps what it received, as received. Tests read one-time codes from
// these messages, never from a mocked transport.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as received (headers and body). */
  raw: string;
  /** Whether the session was upgraded to TLS (STARTTLS) before the message. */
  secure: boolean;
  /** The authenticated user. */
  user: string | undefined;
  at: Date;
}

export interface TestMailServer {
  port: number;
  /** Every message received, oldest first. */
  readonly mails: ReceivedMail[];
  /** While true, new connections are refused with 421 (the mail server is down). */
  down: boolean;
  close(): Promise<void>;
}

export async function startTestMailServer(options: {
  cert: { certPem: string; keyPem: string };
  user: string;
  pass: string;
  /** Called with each message as it arrives. */
  onMail?: (mail: ReceivedMail) => void;
}): Promise<TestMailServer> {
  const mails: ReceivedMail[] = [];
  const state = { down: false };
  const smtp = new SMTPServer({
    key: options.cert.keyPem,
    cert: options.cert.certPem,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onConnect(_session, callback) {
      callback(state.down ? Object.assign(new Error('down'), { responseCode: 421 }) : null);
    },
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.pass) {
        callback(null, { user: auth.username });
      } else callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString(),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          at: new Date(),
        };
        mails.push(mail);
        options.onMail?.(mail);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return {
    port: (smtp.server.address() as AddressInfo).port,
    mails,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
