// The users CLI's passkey commands (cli.ts): list an account's passkeys, and remove them all
// when the user lost their authenticators (the password alone signs in again).
import { parseEmail } from '@bsso/protocol';
import type { Stores } from '../storage/types.ts';

type Write = (text: string) => void;

/** `passkeys <email>`: one line per passkey (id prefix, added, transports). */
export async function listPasskeys(
  stores: Pick<Stores, 'passkeys'>,
  email: string,
  out: Write,
  err: Write,
): Promise<number> {
  const address = parseEmail(email).address;
  const keys = await stores.passkeys.listForAccount(address);
  for (const k of keys) {
    const added = new Date(k.createdAt).toISOString();
    const transports = k.transports.length > 0 ? k.transports.join(',') : '-';
    out(`${k.id.slice(0, 12)}  added ${added}  transports ${transports}\n`);
  }
  err(`${keys.length} passkey(s) of ${address}\n`);
  return 0;
}

/** `remove-passkeys <email>`: removes every passkey of the account. */
export async function removePasskeys(
  stores: Pick<Stores, 'passkeys'>,
  email: string,
  out: Write,
): Promise<number> {
  const address = parseEmail(email).address;
  const removed = await stores.passkeys.removeForAccount(address);
  out(`removed ${removed} passkey(s) of ${address}; the password alone signs in\n`);
  return 0;
}
