// What the background asks the user in its own window (the chooser page), stored in
// storage.session for that page: which address a site gets, or whether it may get one.
import { parseEmail } from '@bsso/protocol';

/** What to ask: pick an address for a site, or confirm that the site gets `email`. */
export type ChooserAsk =
  | { kind: 'choose'; site: string }
  | { kind: 'confirm'; site: string; email: string };

export type ChooserRequest = ChooserAsk & {
  /** When the question expires, in ms since the epoch. */
  expiresAt: number;
};

export function chooserKey(requestId: string): string {
  return `chooser:${requestId}`;
}

/** A stored request as read back (storage is re-validated on every read), or undefined. */
export function readChooserRequest(value: unknown): ChooserRequest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.site !== 'string' || typeof v.expiresAt !== 'number') return undefined;
  if (v.kind === 'choose') return { kind: 'choose', site: v.site, expiresAt: v.expiresAt };
  if (v.kind !== 'confirm' || typeof v.email !== 'string') return undefined;
  try {
    const email = parseEmail(v.email).address;
    return { kind: 'confirm', site: v.site, email, expiresAt: v.expiresAt };
  } catch {
    return undefined;
  }
}
