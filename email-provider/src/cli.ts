#!/usr/bin/env node
// The `bsso-provider-users` program: administration against a provider's data directory
// and stores (the same variables as the provider: cli-stores.ts):
//   users add <email> | remove <email> | list | reset-password <email>
//         | sessions <email> | end-sessions <email>
//         | invalidate-association <handle> | rotate-keys
//         | passkeys <email> | remove-passkeys <email>
// The data directory comes from --data-dir or BSSO_DATA_DIR; BSSO_DOMAINS (optional) limits
// which domains accounts may be created in. Passwords are read from stdin (first line).
// With an external account back-end (BSSO_ACCOUNT_BACKEND imap, ldap or oidc) accounts and
// passwords live there: add and reset-password refuse; remove still ends the sessions.
import { mkdir } from 'node:fs/promises';
import { parseDomain, parseEmail } from '@bsso/protocol';
import { createAccountService } from './accounts.ts';
import { openCliStores } from './cli-stores.ts';
import { readAccountBackendType } from './env.ts';
import { rotateSigningKey } from './keys.ts';
import { listPasskeys, removePasskeys } from './passkeys/cli.ts';
import type { Stores } from './storage/types.ts';

const USAGE = `usage: bsso-provider-users [--data-dir DIR] add <email> | remove <email> | list
         | reset-password <email> | sessions <email> | end-sessions <email>
         | invalidate-association <handle> | rotate-keys
         | passkeys <email> | remove-passkeys <email>
The password is read from stdin (first line). An invalidated association handle is never
used again; the next assertion for its site tells the site to purge it. rotate-keys makes
a new signing key; the running provider uses it after SIGHUP (systemctl reload).
remove-passkeys removes an account's passkeys (lost authenticators): the password alone
signs in again.`;

/** Lists an account's sessions: times and a short prefix of the stored id hash. */
async function listSessions(stores: Stores, email: string): Promise<number> {
  const address = parseEmail(email).address;
  const sessions = await stores.sessions.listForAccount(address);
  for (const s of sessions) {
    const created = new Date(s.createdAt).toISOString();
    const seen = new Date(s.lastSeenAt).toISOString();
    process.stdout.write(`${s.idHash.slice(0, 12)}  created ${created}  last seen ${seen}\n`);
  }
  process.stderr.write(`${sessions.length} session(s) of ${address}\n`);
  return 0;
}

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size > 64 * 1024 || buffer.includes(10)) break;
  }
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new Error('No password on stdin.');
  return line;
}

async function run(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const args = [...argv];
  let dataDir = env.BSSO_DATA_DIR;
  const at = args.indexOf('--data-dir');
  if (at >= 0) {
    dataDir = args[at + 1];
    args.splice(at, 2);
  }
  // The second word is an address, or a handle for invalidate-association.
  const [command, email] = args;
  if (!dataDir || !command) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (command === 'rotate-keys') {
    const kid = await rotateSigningKey(dataDir, Date.now());
    process.stdout.write(
      `new signing key ${kid}; reload the running provider (SIGHUP, systemctl reload) to use it\n`,
    );
    return 0;
  }
  const backend = readAccountBackendType(env);
  if (backend !== 'builtin' && (command === 'add' || command === 'reset-password')) {
    process.stderr.write(
      `users ${command}: BSSO_ACCOUNT_BACKEND is ${backend}, so accounts and passwords live in that system; create them and change passwords there.\n`,
    );
    return 2;
  }
  const domains = env.BSSO_DOMAINS
    ? new Set(env.BSSO_DOMAINS.split(',').map((d) => parseDomain(d.trim())))
    : undefined;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const stores = await openCliStores(env, dataDir);
  const accounts = createAccountService({ stores, domains, now: Date.now });
  try {
    if (command === 'list') {
      for (const address of await accounts.list()) process.stdout.write(`${address}\n`);
      return 0;
    }
    if (!email) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (command === 'sessions') return await listSessions(stores, email);
    const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
    if (command === 'passkeys') {
      return await listPasskeys(stores, email, write(process.stdout), write(process.stderr));
    }
    if (command === 'remove-passkeys') {
      return await removePasskeys(stores, email, write(process.stdout));
    }
    if (command === 'end-sessions') {
      const address = parseEmail(email).address;
      const ended = await stores.sessions.removeForAccount(address);
      process.stdout.write(`ended ${ended} session(s) of ${address}\n`);
      return 0;
    }
    if (command === 'invalidate-association') {
      const done = await stores.associations.invalidate(email);
      process.stdout.write(
        done ? 'association invalidated\n' : 'no live association has that handle\n',
      );
      return done ? 0 : 1;
    }
    if (command === 'add') {
      await accounts.create(email, await readPassword());
      process.stdout.write(`added ${email}\n`);
    } else if (command === 'remove') {
      const removed = await accounts.remove(email);
      process.stdout.write(removed ? `removed ${email}\n` : `${email} has no account\n`);
      return removed ? 0 : 1;
    } else if (command === 'reset-password') {
      await accounts.setPassword(email, await readPassword());
      process.stdout.write(`password of ${email} changed; its sessions ended\n`);
    } else {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    return 0;
  } finally {
    await stores.close();
  }
}

run(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`users: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
