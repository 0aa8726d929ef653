// Typed messages between the extension's parts. Each name says its direction; every answer is
// `{ ok: true, ... } | { ok: false, code, message? }` because the polyfill strips error classes.
import { type ErrorCode, parseEmail, TOKEN_PATTERN } from '@bsso/protocol';

/** Failure codes: the protocol's error codes plus the extension's own. */
export type FailureCode =
  | ErrorCode
  | 'no_email'
  | 'busy'
  | 'no_flow'
  | 'login_cancelled'
  | 'sender_rejected'
  | 'challenge_failed'
  /** The provider's assertion is not for the chosen address, site, challenge or issuer. */
  | 'assertion_mismatch'
  /** The user cancelled the chooser or the confirmation (or let it time out). */
  | 'user_cancelled';

export interface Failure {
  ok: false;
  code: FailureCode;
  message?: string;
}

/**
 * The endpoint link's page challenge attributes as the page has them (null when absent), read
 * by the background with parsePageChallenge (protocol-spec.md#page-challenge).
 */
export interface PageChallengeAttributes {
  nonce: string | null;
  expiresIn: string | null;
  handleSet: string | null;
  /** Milliseconds since the page began loading: the nonce's age, at most. */
  ageMs: number;
}

export interface BeginMessage {
  type: 'content-to-background:begin';
  /** The site's endpoint URL, already checked against the page by the content script. */
  endpoint: string;
  /** Present when the endpoint link carries a page challenge. */
  page?: PageChallengeAttributes;
}

/** Sent once per page that carries usable BSSO markup, so the toolbar icon can say so. */
export interface AvailableMessage {
  type: 'content-to-background:available';
  endpoint: string;
}

export interface AssertMessage {
  type: 'content-to-background:assert';
  endpoint: string;
  /**
   * The site's challenge answer as received; the background reads it with
   * parseChallengeAnswer, which keeps the schema library out of the content script.
   */
  challenge: unknown;
}

export interface ChooseMessage {
  type: 'chooser-to-background:choose';
  requestId: string;
  /** The picked address, or null when the user cancelled. */
  email: string | null;
  remember: boolean;
}

export interface DiscoverMessage {
  type: 'options-to-background:discover';
  email: string;
}

export type Message =
  | BeginMessage
  | AvailableMessage
  | AssertMessage
  | ChooseMessage
  | DiscoverMessage;
export type MessageType = Message['type'];

interface ResultMap {
  'content-to-background:begin':
    | {
        ok: true;
        /**
         * Where the content script GETs the challenge (computed here, not in the content
         * script). The content script never gets the address: nothing it could put into the
         * page has it.
         */
        challengeUrl: string;
      }
    | {
        ok: true;
        /** The page challenge was usable: the checked assertion, ready for delivery. */
        assertion: string;
      };
  'content-to-background:available': { ok: true };
  'content-to-background:assert': { ok: true; assertion: string };
  'chooser-to-background:choose': { ok: true };
  'options-to-background:discover': { ok: true; email: string; issuer: string };
}

export type ResultFor<T extends MessageType> = ResultMap[T] | Failure;

export function failure(code: FailureCode, message?: string): Failure {
  return message === undefined ? { ok: false, code } : { ok: false, code, message };
}

const MAX_URL = 2048;
const MAX_CHALLENGE = 4096;
const MAX_ATTRIBUTE = 600;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(value).every((k) => allowed.includes(k));
}

function isUrlString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_URL;
}

function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_PATTERN.test(value);
}

function isAttribute(value: unknown): value is string | null {
  return value === null || (typeof value === 'string' && value.length <= MAX_ATTRIBUTE);
}

function parsePageAttributes(value: unknown): PageChallengeAttributes | undefined {
  if (!isRecord(value) || !onlyKeys(value, ['nonce', 'expiresIn', 'handleSet', 'ageMs'])) {
    return undefined;
  }
  const { nonce, expiresIn, handleSet, ageMs } = value;
  if (!isAttribute(nonce) || !isAttribute(expiresIn) || !isAttribute(handleSet)) return undefined;
  if (typeof ageMs !== 'number' || !Number.isFinite(ageMs) || ageMs < 0) return undefined;
  return { nonce, expiresIn, handleSet, ageMs };
}

/**
 * Validates an incoming message: known type, exactly the members it may have, each of the
 * right shape. Anything else is `undefined` and answered with `invalid_request`.
 */
export function parseMessage(value: unknown): Message | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case 'content-to-background:begin': {
      if (!onlyKeys(value, ['type', 'endpoint', 'page']) || !isUrlString(value.endpoint)) {
        return undefined;
      }
      if (value.page === undefined) return { type: value.type, endpoint: value.endpoint };
      const page = parsePageAttributes(value.page);
      if (page === undefined) return undefined;
      return { type: value.type, endpoint: value.endpoint, page };
    }
    case 'content-to-background:available':
      if (!onlyKeys(value, ['type', 'endpoint']) || !isUrlString(value.endpoint)) return undefined;
      return { type: value.type, endpoint: value.endpoint };
    case 'content-to-background:assert':
      if (!onlyKeys(value, ['type', 'endpoint', 'challenge'])) return undefined;
      if (!isUrlString(value.endpoint) || !isRecord(value.challenge)) return undefined;
      if (JSON.stringify(value.challenge).length > MAX_CHALLENGE) return undefined;
      return { type: value.type, endpoint: value.endpoint, challenge: value.challenge };
    case 'chooser-to-background:choose':
      if (!onlyKeys(value, ['type', 'requestId', 'email', 'remember'])) return undefined;
      if (!isToken(value.requestId) || typeof value.remember !== 'boolean') return undefined;
      if (value.email === null) {
        return {
          type: value.type,
          requestId: value.requestId,
          email: null,
          remember: value.remember,
        };
      }
      try {
        // The address as protocol-spec.md#email-addresses normalizes it.
        const email = parseEmail(value.email).address;
        return { type: value.type, requestId: value.requestId, email, remember: value.remember };
      } catch {
        return undefined;
      }
    case 'options-to-background:discover':
      if (!onlyKeys(value, ['type', 'email']) || typeof value.email !== 'string') return undefined;
      return { type: value.type, email: value.email };
    default:
      return undefined;
  }
}
