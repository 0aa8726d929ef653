// The IMAP back-end: the user's mail password is right when the provider's own IMAP server
// accepts a LOGIN with it, over implicit TLS or required STARTTLS, never in cleartext.
// One connection per check, logged out right after (imapflow's verifyOnly).
import { ImapFlow } from 'imapflow';
import type { ResolvedImap } from './options.ts';
import {
  acceptableCredentials,
  INVALID,
  type PasswordBackend,
  unavailable,
  withBudget,
} from './types.ts';

function authenticationFailed(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { authenticationFailed?: unknown }).authenticationFailed === true
  );
}

export function createImapBackend(
  options: ResolvedImap,
  domains: ReadonlySet<string>,
): PasswordBackend {
  return {
    kind: 'password',
    type: 'imap',
    async check(email, password) {
      const address = acceptableCredentials(email, password, domains);
      if (!address) return INVALID;
      const client = new ImapFlow({
        host: options.host,
        port: options.port,
        secure: options.tls === 'implicit',
        doSTARTTLS: options.tls === 'starttls' ? true : undefined,
        ...(options.servername ? { servername: options.servername } : {}),
        tls: { ca: options.ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
        auth: {
          user: options.login === 'address' ? address.address : address.localPart,
          pass: password,
        },
        verifyOnly: true,
        logger: false,
        disableAutoIdle: true,
        connectionTimeout: options.timeoutMs,
        greetingTimeout: options.timeoutMs,
        socketTimeout: options.timeoutMs,
      });
      client.on('error', () => undefined);
      return withBudget(
        options.timeoutMs,
        async () => {
          try {
            await client.connect();
            return { ok: true, email: address.address };
          } catch (err) {
            return authenticationFailed(err) ? INVALID : unavailable(err);
          } finally {
            client.close();
          }
        },
        () => client.close(),
      );
    },
    async close() {},
  };
}
