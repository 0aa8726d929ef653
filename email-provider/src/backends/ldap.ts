// The LDAP back-end: find the user's entry by its mail attribute (as a service account, or
// anonymously), then bind as that entry's DN with the password, on the same connection
// over TLS (ldaps:// or STARTTLS). The address enters the filter escaped (EqualityFilter):
// a local part may hold '*', which unescaped would match other users.
import { Client, EqualityFilter, InvalidCredentialsError, SizeLimitExceededError } from 'ldapts';
import type { ResolvedLdap } from './options.ts';
import {
  acceptableCredentials,
  INVALID,
  type PasswordBackend,
  type PasswordCheckResult,
  unavailable,
  withBudget,
} from './types.ts';

export function createLdapBackend(
  options: ResolvedLdap,
  domains: ReadonlySet<string>,
): PasswordBackend {
  const tlsOptions = {
    ca: options.ca,
    servername: options.servername,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  } as const;
  return {
    kind: 'password',
    type: 'ldap',
    async check(email, password) {
      const address = acceptableCredentials(email, password, domains);
      if (!address) return INVALID;
      const client = new Client({
        url: options.url,
        timeout: options.timeoutMs,
        connectTimeout: options.timeoutMs,
        // ldapts speaks implicit TLS whenever it is given TLS options: only for ldaps://.
        ...(options.startTls ? {} : { tlsOptions }),
      });
      const close = () => {
        client.unbind().catch(() => undefined);
      };
      return withBudget(
        options.timeoutMs,
        async (): Promise<PasswordCheckResult> => {
          try {
            if (options.startTls) await client.startTLS(tlsOptions);
            if (options.bind) await client.bind(options.bind.dn, options.bind.password);
            const { searchEntries } = await client.search(options.baseDn, {
              scope: 'sub',
              filter: new EqualityFilter({
                attribute: options.mailAttribute,
                value: address.address,
              }),
              attributes: ['1.1'],
              sizeLimit: 2,
            });
            // Exactly one entry, or nobody: an address shared by two entries signs in no one.
            const [entry, other] = searchEntries;
            if (!entry || other || entry.dn === '') return INVALID;
            try {
              await client.bind(entry.dn, password);
            } catch (err) {
              if (err instanceof InvalidCredentialsError) return INVALID;
              throw err;
            }
            return { ok: true, email: address.address };
          } catch (err) {
            // Two entries with the address: sign in no one. Anything else: the server failed.
            return err instanceof SizeLimitExceededError ? INVALID : unavailable(err);
          } finally {
            close();
          }
        },
        close,
      );
    },
    async close() {},
  };
}
