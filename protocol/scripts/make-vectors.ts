// Generates protocol/test/vectors/vectors.json (protocol-spec.md uses these as its examples).
// Run: node --conditions=bsso-source scripts/make-vectors.ts  (from protocol/)
// No key material is stored: every key is derived at run time from a public, labelled seed.
// HS256 and Ed25519 signatures are deterministic, so the output is stable byte for byte.
import { writeFile } from 'node:fs/promises';
import { base64url, calculateJwkThumbprint, type JWK } from 'jose';
import {
  type AssertionClaims,
  type AssertionSigningKey,
  BSSO_VERSION,
  BssoError,
  challengeUrl,
  createJrd,
  createProviderConfig,
  DELIVERY_ASSERTION_FIELD,
  DELIVERY_RETURN_TO_FIELD,
  decodeAssertion,
  encodeAssociationAnswer,
  errorCodes,
  LOGIN_HINT_PARAM,
  limits,
  POPUP_PARAM,
  POPUP_PARAM_VALUE,
  pageChallengeAttributes,
  parseEmail,
  signAssertion,
  toErrorResponse,
  webSignInUrl,
} from '../src/index.ts';

export const VECTORS_FILE = new URL('../test/vectors/vectors.json', import.meta.url);

/** The labels every derived value comes from: SHA-256 of the UTF-8 label. */
export const seeds = {
  associationKey: 'bsso test vector association key',
  providerKey: 'bsso test vector provider key',
  associationHandle: 'bsso test vector association handle',
  staleHandle: 'bsso test vector stale handle',
  nonce: 'bsso test vector nonce',
  pageNonce: 'bsso test vector page nonce',
  handleSet: 'bsso test vector handle set',
  jtiAssociation: 'bsso test vector jti association',
  jtiProvider: 'bsso test vector jti provider',
  jtiInvalidation: 'bsso test vector jti invalidation',
} as const;

export const fixed = {
  issuer: 'https://mail.example',
  configUrl: 'https://mail.example/.well-known/bsso-provider',
  email: 'alice@mail.example',
  site: 'https://site.example',
  audience: 'https://site.example/bsso',
  returnTo: '/account',
  /** 2026-01-01T00:00:00Z */
  iat: 1767225600,
  associationLifetimeSeconds: 86400,
} as const;

export async function sha256(label: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(label)));
}

async function token(label: string, bytes: number): Promise<string> {
  return base64url.encode((await sha256(label)).slice(0, bytes));
}

// PKCS #8 wrapping of a raw Ed25519 seed (RFC 8410 §7): fixed prefix, then the 32 bytes.
const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export interface VectorKeys {
  associationSecret: Uint8Array;
  associationHandle: string;
  providerPrivateKey: CryptoKey;
  providerPublicKey: CryptoKey;
  providerPublicJwk: JWK;
  providerKid: string;
}

/** Derives the vector keys from their labels. Shared by the generator and the tests. */
export async function vectorKeys(): Promise<VectorKeys> {
  const seed = await sha256(seeds.providerKey);
  const pkcs8 = new Uint8Array(ED25519_PKCS8_PREFIX.length + seed.length);
  pkcs8.set(ED25519_PKCS8_PREFIX);
  pkcs8.set(seed, ED25519_PKCS8_PREFIX.length);
  const providerPrivateKey = await crypto.subtle.importKey('pkcs8', pkcs8, 'Ed25519', true, [
    'sign',
  ]);
  const { x } = (await crypto.subtle.exportKey('jwk', providerPrivateKey)) as JWK;
  if (x === undefined) throw new Error('Ed25519 export lacks x');
  const providerPublicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x };
  const providerPublicKey = await crypto.subtle.importKey(
    'jwk',
    providerPublicJwk,
    'Ed25519',
    true,
    ['verify'],
  );
  return {
    associationSecret: await sha256(seeds.associationKey),
    associationHandle: await token(seeds.associationHandle, limits.idBytes),
    providerPrivateKey,
    providerPublicKey,
    providerPublicJwk,
    providerKid: await calculateJwkThumbprint(providerPublicJwk),
  };
}

export interface Vector {
  description: string;
  decoded: unknown;
  /** The exact bytes on the wire, for JWTs and form bodies. */
  encoded?: string;
}

export interface VectorFile {
  bsso_version: number;
  derivation: Record<string, string>;
  vectors: Record<string, Vector>;
}

async function jwtVector(description: string, claims: AssertionClaims, key: AssertionSigningKey) {
  const encoded = await signAssertion(claims, key);
  return { encoded, vector: { description, decoded: decodeAssertion(encoded), encoded } };
}

/** Builds every vector with the real protocol functions. */
export async function makeVectors(): Promise<VectorFile> {
  const keys = await vectorKeys();
  const email = parseEmail(fixed.email);
  const nonce = await token(seeds.nonce, limits.nonceBytes);
  const handle = keys.associationHandle;
  const handleSet = await token(seeds.handleSet, limits.idBytes);
  const staleHandle = await token(seeds.staleHandle, limits.idBytes);
  const association: AssertionSigningKey = {
    kind: 'association',
    handle,
    secret: keys.associationSecret,
  };
  const provider: AssertionSigningKey = {
    kind: 'provider',
    kid: keys.providerKid,
    privateKey: keys.providerPrivateKey,
  };
  const base = {
    iss: fixed.issuer,
    sub: email.address,
    aud: fixed.audience,
    nonce,
    iat: fixed.iat,
    exp: fixed.iat + limits.defaultAssertionLifetimeSeconds,
  };
  const hs = await jwtVector(
    'An assertion signed with the association key (HS256, kid = association handle).',
    { ...base, jti: await token(seeds.jtiAssociation, limits.idBytes) },
    association,
  );
  const ed = await jwtVector(
    'An assertion signed with the provider key (EdDSA, kid = provider key id); verified directly.',
    { ...base, jti: await token(seeds.jtiProvider, limits.idBytes) },
    provider,
  );
  const inv = await jwtVector(
    'A provider-signed assertion answering a request that named a handle the provider no longer honours.',
    {
      ...base,
      jti: await token(seeds.jtiInvalidation, limits.idBytes),
      invalidate_handle: staleHandle,
    },
    provider,
  );
  const signinUrl = new URL('/signin', fixed.issuer);
  signinUrl.searchParams.set(LOGIN_HINT_PARAM, email.address);
  signinUrl.searchParams.set(POPUP_PARAM, POPUP_PARAM_VALUE);
  const form = new URLSearchParams({
    [DELIVERY_ASSERTION_FIELD]: hs.encoded,
    [DELIVERY_RETURN_TO_FIELD]: fixed.returnTo,
  });
  const edClaims = decodeAssertion(ed.encoded).claims;
  const webRequest = {
    audience: fixed.audience,
    nonce,
    login_hint: email.address,
    handle,
    return_to: fixed.returnTo,
  };

  const vectors: Record<string, Vector> = {
    webfinger_jrd: {
      description: `Answer to GET https://${email.domain}/.well-known/webfinger?resource=acct%3A${encodeURIComponent(email.address)}`,
      decoded: createJrd(email, fixed.configUrl),
    },
    provider_configuration: {
      description: `Answer to GET ${fixed.configUrl}`,
      decoded: createProviderConfig(fixed.issuer, {
        assertion_endpoint: '/bsso/assertion',
        association_endpoint: '/bsso/association',
        verification_endpoint: '/bsso/verify',
        signin_endpoint: '/signin',
        web_endpoint: '/bsso/web',
      }),
    },
    challenge_answer: {
      description: `Answer to GET ${challengeUrl(fixed.audience, email.domain)}`,
      decoded: {
        nonce,
        handle,
        expires_in: limits.nonceLifetimeSeconds,
        handle_expires_in: fixed.associationLifetimeSeconds,
        handle_set: handleSet,
      },
    },
    page_challenge: {
      description:
        'Attributes of the endpoint link carrying a page challenge (the nonce is the site format; here derived from a label).',
      decoded: pageChallengeAttributes({
        nonce: await token(seeds.pageNonce, limits.nonceBytes),
        expiresIn: 3600,
        handleSet,
      }),
    },
    assertion_request: {
      description: 'Body of POST <assertion_endpoint> from the extension.',
      decoded: { email: email.address, audience: fixed.audience, nonce, handle },
    },
    assertion_answer: {
      description: '200 answer of the assertion endpoint.',
      decoded: { assertion: hs.encoded },
    },
    login_required_answer: {
      description: '401 answer of the assertion endpoint when no one is signed in.',
      decoded: {
        error: 'login_required',
        error_description: errorCodes.login_required.description,
        signin_url: signinUrl.href,
      },
    },
    wrong_account_answer: {
      description: '403 answer of the assertion endpoint when another address is signed in.',
      decoded: toErrorResponse(new BssoError('wrong_account')).body,
    },
    assertion_association_signed: hs.vector,
    assertion_provider_signed: ed.vector,
    assertion_invalidation: inv.vector,
    delivery_form: {
      description: 'Body of the top-level form POST to the site endpoint (x-www-form-urlencoded).',
      decoded: Object.fromEntries(form),
      encoded: form.toString(),
    },
    web_signin_request: {
      description:
        'The query of GET <web_endpoint>, where the site start page sends the browser (web flow).',
      decoded: webRequest,
      encoded: webSignInUrl(new URL('/bsso/web', fixed.issuer).href, webRequest),
    },
    association_request: {
      description: 'Body of POST <association_endpoint> from the site.',
      decoded: { site: fixed.site },
    },
    association_answer: {
      description: '200 answer of the association endpoint.',
      decoded: encodeAssociationAnswer(
        handle,
        keys.associationSecret,
        fixed.associationLifetimeSeconds,
      ),
    },
    verification_request: {
      description: 'Body of POST <verification_endpoint> from the site.',
      decoded: { assertion: ed.encoded },
    },
    verification_answer: {
      description: '200 answer of the verification endpoint.',
      decoded: { valid: true, claims: edClaims },
    },
    error_object: {
      description: 'An error answer: here the site refusing a used nonce (HTTP 400).',
      decoded: toErrorResponse(new BssoError('invalid_nonce')).body,
    },
    provider_public_key: {
      description:
        'The public half of the vector provider key (JWK); kid is its RFC 7638 thumbprint.',
      decoded: { ...keys.providerPublicJwk, kid: keys.providerKid },
    },
  };
  return {
    bsso_version: BSSO_VERSION,
    derivation: {
      association_key: `SHA-256("${seeds.associationKey}"), used as the 32-byte HS256 key`,
      provider_key: `Ed25519 private key whose 32-byte seed is SHA-256("${seeds.providerKey}")`,
      provider_kid: 'RFC 7638 JWK thumbprint (SHA-256) of the provider public key',
      tokens:
        'nonces, handles, the handle set and jti: base64url of the first n bytes of SHA-256(label), n = 32 for the nonces and 16 otherwise',
      ...Object.fromEntries(
        Object.entries(seeds)
          .filter(([name]) => !name.endsWith('Key'))
          .map(([name, label]) => [`label_${name}`, label]),
      ),
    },
    vectors,
  };
}

export function serializeVectors(file: VectorFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

if (import.meta.main) {
  await writeFile(VECTORS_FILE, serializeVectors(await makeVectors()));
  console.log(`wrote ${VECTORS_FILE.pathname}`);
}
