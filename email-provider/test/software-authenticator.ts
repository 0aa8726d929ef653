// A software WebAuthn authenticator for the provider's HTTP tests: an ES256 key, 'none'
// attestation, and the JSON answers a browser posts (as pages/passkeys-script.ts encodes
// them). It signs whatever challenge and origin it is given, so tests can also make answers
// a real browser never would (another origin, a counter that went back). Chromium's virtual
// authenticator covers the real browser (e2e/test/passkeys.test.ts).
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

function cborHead(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  const b = Buffer.alloc(3);
  b[0] = (major << 5) | 25;
  b.writeUInt16BE(n, 1);
  return b;
}

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  const parts = [cborHead(5, value.size)];
  for (const [k, v] of value) parts.push(cbor(k), cbor(v));
  return Buffer.concat(parts);
}

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export interface CreationOptions {
  challenge: string;
  rp: { id?: string };
}
export interface RequestOptions {
  challenge: string;
  rpId?: string;
}

export class SoftwareAuthenticator {
  readonly id = b64(randomBytes(16));
  counter = 0;
  private readonly key: KeyObject;
  private readonly publicJwk: { x: string; y: string };

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.key = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicJwk = { x: jwk.x ?? '', y: jwk.y ?? '' };
  }

  private authData(rpId: string, flags: number, attested?: Buffer): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    return Buffer.concat([
      sha256(rpId),
      Buffer.from([flags]),
      counter,
      attested ?? Buffer.alloc(0),
    ]);
  }

  /** The answer to navigator.credentials.create() for these options, as JSON text. */
  create(options: CreationOptions, origin: string): string {
    const rpId = options.rp.id ?? new URL(origin).hostname;
    const idBytes = Buffer.from(this.id, 'base64url');
    const coseKey = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(this.publicJwk.x, 'base64url')],
        [-3, Buffer.from(this.publicJwk.y, 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(idBytes.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, idBytes, coseKey]);
    // User present (0x01), verified (0x04), attested credential data (0x40).
    const authData = this.authData(rpId, 0x45, attested);
    const clientData = JSON.stringify({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin,
    });
    const attestationObject = cbor(
      new Map<Cbor, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64(clientData),
        attestationObject: b64(attestationObject),
        transports: ['internal'],
      },
    });
  }

  /** The answer to navigator.credentials.get(); the counter moves on first unless told. */
  get(
    options: RequestOptions,
    origin: string,
    o: { keepCounter?: boolean; userVerified?: boolean; userHandle?: string } = {},
  ): string {
    if (!o.keepCounter) this.counter += 1;
    // User present (0x01), and verified (0x04) unless told otherwise.
    const flags = o.userVerified === false ? 0x01 : 0x05;
    const authData = this.authData(options.rpId ?? new URL(origin).hostname, flags);
    const clientData = JSON.stringify({
      type: 'webauthn.get',
      challenge: options.challenge,
      origin,
    });
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.key);
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64(clientData),
        authenticatorData: b64(authData),
        signature: b64(signature),
        userHandle: o.userHandle ?? null,
      },
    });
  }
}

/** The options a page put in its passkey form's data-options (HTML-escaped JSON). */
export function pageOptions<T>(page: string): T {
  const match = /data-options="([^"]*)"/.exec(page);
  if (!match?.[1]) throw new Error('no passkey options on the page');
  const json = match[1]
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
  return JSON.parse(json) as T;
}
