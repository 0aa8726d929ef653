// Builds the configured account back-end (options.ts): a password back-end (builtin, IMAP,
// LDAP) behind the sign-in form, or the upstream OpenID provider behind a button.
import type { AccountService } from '../accounts.ts';
import { paths } from '../paths.ts';
import { createBuiltinBackend } from './builtin.ts';
import { createImapBackend } from './imap.ts';
import { createLdapBackend } from './ldap.ts';
import type { ResolvedAccountBackend } from './options.ts';
import type { PasswordBackend } from './types.ts';
import { createUpstreamOidc, type UpstreamOidc } from './upstream-oidc.ts';

export interface OidcBackend {
  readonly kind: 'oidc';
  readonly type: 'oidc';
  /** The name on the button: "Sign in with <label>". */
  readonly label: string;
  /** Where the browser is sent to sign in: the issuer's origin. */
  readonly origin: string;
  readonly upstream: UpstreamOidc;
  close(): Promise<void>;
}

export type AccountBackend = PasswordBackend | OidcBackend;

export interface AccountBackendContext {
  accounts: AccountService;
  domains: ReadonlySet<string>;
  issuer: string;
}

export function createAccountBackend(
  options: ResolvedAccountBackend,
  context: AccountBackendContext,
): AccountBackend {
  switch (options.type) {
    case 'builtin':
      return createBuiltinBackend(context.accounts);
    case 'imap':
      return createImapBackend(options, context.domains);
    case 'ldap':
      return createLdapBackend(options, context.domains);
    case 'oidc': {
      const upstream = createUpstreamOidc({
        issuer: options.issuer,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        redirectUri: `${context.issuer}${paths.signinUpstreamCallback}`,
        ca: options.ca,
        timeoutMs: options.timeoutMs,
      });
      return {
        kind: 'oidc',
        type: 'oidc',
        label: options.label,
        origin: new URL(options.issuer).origin,
        upstream,
        close: () => upstream.close(),
      };
    }
  }
}
