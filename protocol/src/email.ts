// Email addresses as BSSO identifies users by them (protocol-spec.md#email-addresses).
import { limits } from './constants.ts';
import { BssoError } from './errors.ts';

// Dot-atom local part (RFC 5322 §3.4.1) without quoted strings or comments.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// One LDH label (RFC 1035 §2.3.1, RFC 5890 A-labels included).
const DOMAIN_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface EmailAddress {
  /** The normalized address: ASCII, lower case. */
  readonly address: string;
  readonly localPart: string;
  /** The domain WebFinger discovery runs on. */
  readonly domain: string;
}

/**
 * Parses and normalizes an email address. Refuses anything but an ASCII dot-atom local part
 * at a domain name of two or more labels: no IP literals, no non-ASCII look-alikes (use the
 * A-label form), no control characters.
 */
export function parseEmail(input: unknown): EmailAddress {
  if (typeof input !== 'string' || input.length === 0) {
    throw new BssoError('invalid_email', 'An email address is required.');
  }
  if (input.length > limits.maxEmailLength) {
    throw new BssoError('invalid_email', 'The email address is too long.');
  }
  const lower = input.toLowerCase();
  const at = lower.indexOf('@');
  if (at <= 0 || at !== lower.lastIndexOf('@')) {
    throw new BssoError('invalid_email', 'An email address has exactly one @.');
  }
  const localPart = lower.slice(0, at);
  const domain = parseDomain(lower.slice(at + 1));
  if (localPart.length > 64 || !LOCAL_PART.test(localPart)) {
    throw new BssoError('invalid_email', 'The part before the @ has characters not allowed.');
  }
  return { address: `${localPart}@${domain}`, localPart, domain };
}

/** Parses a domain name as BSSO accepts it for discovery. */
export function parseDomain(input: unknown): string {
  if (typeof input !== 'string') throw new BssoError('invalid_email', 'A domain is required.');
  const domain = input.toLowerCase();
  const labels = domain.split('.');
  if (domain.length > 253 || labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l))) {
    throw new BssoError('invalid_email', 'The domain is not a valid domain name.');
  }
  // An all-numeric top label means an IP address literal, not a name.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    throw new BssoError('invalid_email', 'IP addresses are not allowed as email domains.');
  }
  return domain;
}
