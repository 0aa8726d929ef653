// Reads the browser's answer to a WebAuthn ceremony, posted as JSON in a form field (the
// script of pages/passkeys-script.ts encodes it), strictly: an object of the shape
// SimpleWebAuthn verifies, with base64url strings of bounded size, or invalid_response.
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { PasskeyError } from './errors.ts';

/** The longest answer read; real ones are a few KiB at most. */
export const MAX_RESPONSE_CHARS = 16_384;
const B64URL = /^[A-Za-z0-9_-]+$/;
/** Credential ids are at most 1023 bytes (WebAuthn Level 3). */
const MAX_ID_CHARS = 1366;
const TRANSPORTS: readonly AuthenticatorTransport[] = ['ble', 'hybrid', 'internal', 'nfc', 'usb'];

type Json = Record<string, unknown>;

function invalid(what: string): never {
  throw new PasskeyError('invalid_response', `The passkey answer is not valid: ${what}.`);
}

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(what);
  return value as Json;
}

function b64url(o: Json, name: string, max = MAX_RESPONSE_CHARS): string {
  const v = o[name];
  if (typeof v !== 'string' || v.length > max || !B64URL.test(v)) invalid(name);
  return v;
}

function optionalB64url(o: Json, name: string): string | undefined {
  return o[name] === undefined || o[name] === null ? undefined : b64url(o, name);
}

function envelope(text: string): { root: Json; id: string; response: Json } {
  if (text.length === 0 || text.length > MAX_RESPONSE_CHARS) invalid('size');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    invalid('not JSON');
  }
  const root = object(parsed, 'not an object');
  const id = b64url(root, 'id', MAX_ID_CHARS);
  if (root.rawId !== id) invalid('rawId');
  if (root.type !== 'public-key') invalid('type');
  return { root, id, response: object(root.response, 'response') };
}

export function parseRegistrationResponse(text: string): RegistrationResponseJSON {
  const { root, id, response } = envelope(text);
  const transports = Array.isArray(response.transports)
    ? response.transports.filter((t): t is AuthenticatorTransport =>
        TRANSPORTS.includes(t as AuthenticatorTransport),
      )
    : [];
  return {
    id,
    rawId: id,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: b64url(response, 'clientDataJSON'),
      attestationObject: b64url(response, 'attestationObject'),
      transports,
    },
    ...(root.authenticatorAttachment === 'platform' ||
    root.authenticatorAttachment === 'cross-platform'
      ? { authenticatorAttachment: root.authenticatorAttachment }
      : {}),
  };
}

export function parseAuthenticationResponse(text: string): AuthenticationResponseJSON {
  const { id, response } = envelope(text);
  const userHandle = optionalB64url(response, 'userHandle');
  return {
    id,
    rawId: id,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: b64url(response, 'clientDataJSON'),
      authenticatorData: b64url(response, 'authenticatorData'),
      signature: b64url(response, 'signature'),
      ...(userHandle === undefined ? {} : { userHandle }),
    },
  };
}

export function knownTransports(values: readonly string[]): AuthenticatorTransport[] {
  return values.filter((t): t is AuthenticatorTransport =>
    TRANSPORTS.includes(t as AuthenticatorTransport),
  );
}
