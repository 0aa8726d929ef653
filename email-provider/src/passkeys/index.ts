// Passkeys (WebAuthn) for built-in accounts, through SimpleWebAuthn: registration from the
// account page and the second factor of a password sign-in (issue 16 item 4). The relying
// party is the provider itself: RP ID the issuer's host, expected origin the issuer's
// origin, user verification preferred, counters checked. Every ceremony's challenge is
// stored server-side, bound to its session or browser, short-lived and used once (state.ts).
import { createHash, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { MAX_PASSKEYS_PER_ACCOUNT } from '../storage/sqlite-passkeys.ts';
import type { PasskeyRecord, Stores } from '../storage/types.ts';
import { PasskeyError } from './errors.ts';
import {
  knownTransports,
  parseAuthenticationResponse,
  parseRegistrationResponse,
} from './response.ts';
import {
  CEREMONY_MS,
  putState,
  registrationKey,
  type SigninState,
  signinKey,
  takeState,
} from './state.ts';

export { PasskeyError, type PasskeyErrorCode } from './errors.ts';
export { CEREMONY_MS } from './state.ts';

export interface PasskeyOptions {
  stores: Pick<Stores, 'passkeys' | 'ceremonies'>;
  /** The provider's issuer, a bare https origin: the expected origin; its host is the RP ID. */
  issuer: string;
  now: () => number;
}

/** Who started a registration: the signed-in session. */
export interface SessionRef {
  email: string;
  idHash: string;
}

/** Who signs in, and where the sign-in goes on. */
export interface SignedIn {
  email: string;
  popup: boolean;
  continue?: string;
}

export interface PendingSignin {
  /** The random id for the browser's cookie; the store keeps only its hash. */
  browserId: string;
  options: PublicKeyCredentialRequestOptionsJSON;
}

export interface Passkeys {
  list(email: string): Promise<PasskeyRecord[]>;
  remove(email: string, id: string): Promise<boolean>;
  startRegistration(session: SessionRef): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Verifies the browser's answer (JSON text) and stores the new passkey. */
  finishRegistration(session: SessionRef, responseText: string): Promise<PasskeyRecord>;
  /** After the right password: the pending sign-in, or undefined when the account has none. */
  startSignin(
    email: string,
    next: Pick<SigninState, 'popup' | 'continue'>,
  ): Promise<PendingSignin | undefined>;
  /** A sign-in with a passkey alone (discoverable, user verification required). */
  startPasskeySignin(next: Pick<SigninState, 'popup' | 'continue'>): Promise<PendingSignin>;
  /** Verifies the assertion for the browser's pending sign-in; the account to sign in. */
  finishSignin(browserId: string, responseText: string): Promise<SignedIn>;
}

/**
 * EdDSA, ES256, RS256: what authenticators use. Named, so SimpleWebAuthn does not probe the
 * runtime for experimental algorithms (Node warns on each probe).
 */
const ALGORITHMS = [-8, -7, -257];

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** The authenticator's user handle: stable per account, and not the address itself. */
function userId(issuer: string, email: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(`${issuer}\n${email}`).digest());
}

export function createPasskeys(options: PasskeyOptions): Passkeys {
  const { stores, issuer, now } = options;
  const rpID = new URL(issuer).hostname;
  const timeout = CEREMONY_MS;
  const descriptors = (keys: PasskeyRecord[]) =>
    keys.map((k) => ({ id: k.id, transports: knownTransports(k.transports) }));
  return {
    list: (email) => stores.passkeys.listForAccount(email),
    remove: (email, id) => stores.passkeys.remove(email, id),

    async startRegistration(session) {
      const existing = await stores.passkeys.listForAccount(session.email);
      if (existing.length >= MAX_PASSKEYS_PER_ACCOUNT) {
        throw new PasskeyError('too_many_passkeys', 'This account has the most passkeys it may.');
      }
      const creation = await generateRegistrationOptions({
        rpName: rpID,
        rpID,
        userName: session.email,
        userID: userId(issuer, session.email),
        timeout,
        attestationType: 'none',
        supportedAlgorithmIDs: ALGORITHMS,
        excludeCredentials: descriptors(existing),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      });
      await putState(
        stores.ceremonies,
        registrationKey(session.idHash),
        { kind: 'registration', email: session.email, challenge: creation.challenge },
        now(),
      );
      return creation;
    },

    async finishRegistration(session, responseText) {
      // Taken first: whatever happens next, this challenge is spent.
      const state = await takeState(
        stores.ceremonies,
        registrationKey(session.idHash),
        'registration',
        now(),
      );
      if (state.email !== session.email) {
        throw new PasskeyError('ceremony_missing', 'No passkey ceremony is waiting here.');
      }
      const response = parseRegistrationResponse(responseText);
      let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verified = await verifyRegistrationResponse({
          response,
          expectedChallenge: state.challenge,
          expectedOrigin: issuer,
          expectedRPID: rpID,
          requireUserVerification: false,
          supportedAlgorithmIDs: ALGORITHMS,
        });
      } catch {
        verified = { verified: false };
      }
      if (!verified.verified) {
        throw new PasskeyError('verification_failed', 'The passkey could not be verified.');
      }
      const { credential } = verified.registrationInfo;
      const record: PasskeyRecord = {
        id: credential.id,
        email: session.email,
        publicKey: new Uint8Array(credential.publicKey),
        counter: credential.counter,
        transports: knownTransports(response.response.transports ?? []),
        createdAt: now(),
      };
      if (!(await stores.passkeys.insert(record))) {
        throw new PasskeyError('passkey_exists', 'This passkey is registered already.');
      }
      return record;
    },

    async startSignin(email, next) {
      const keys = await stores.passkeys.listForAccount(email);
      if (keys.length === 0) return undefined;
      const request = await generateAuthenticationOptions({
        rpID,
        allowCredentials: descriptors(keys),
        userVerification: 'preferred',
        timeout,
      });
      const browserId = randomBytes(32).toString('base64url');
      const state: SigninState = { kind: 'signin', email, challenge: request.challenge, ...next };
      await putState(stores.ceremonies, signinKey(browserId), state, now());
      return { browserId, options: request };
    },

    async startPasskeySignin(next) {
      // No list of credentials: the authenticator offers the user its passkeys for this RP.
      const request = await generateAuthenticationOptions({
        rpID,
        userVerification: 'required',
        timeout,
      });
      const browserId = randomBytes(32).toString('base64url');
      const state: SigninState = { kind: 'signin', challenge: request.challenge, ...next };
      await putState(stores.ceremonies, signinKey(browserId), state, now());
      return { browserId, options: request };
    },

    async finishSignin(browserId, responseText) {
      const state = await takeState(stores.ceremonies, signinKey(browserId), 'signin', now());
      try {
        return await verifySignin(state, responseText);
      } catch (err) {
        if (err instanceof PasskeyError) {
          if (state.email !== undefined) err.account = state.email;
          err.popup = state.popup;
          if (state.continue !== undefined) err.continue = state.continue;
        }
        throw err;
      }
    },
  };

  async function verifySignin(state: SigninState, responseText: string): Promise<SignedIn> {
    const response = parseAuthenticationResponse(responseText);
    const key = await stores.passkeys.find(response.id);
    // The second factor: one of the account's own passkeys. A passkey alone: any passkey,
    // whose user handle (when the authenticator sends one) is its account's.
    const alone = state.email === undefined;
    const handle = response.response.userHandle;
    if (
      !key ||
      (!alone && key.email !== state.email) ||
      (alone && handle !== undefined && handle !== b64url(userId(issuer, key.email)))
    ) {
      throw new PasskeyError('unknown_credential', 'This passkey is not one of the account.');
    }
    let verified = false;
    let newCounter = key.counter;
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: state.challenge,
        expectedOrigin: issuer,
        expectedRPID: rpID,
        credential: {
          id: key.id,
          publicKey: new Uint8Array(key.publicKey),
          counter: key.counter,
          transports: knownTransports(key.transports),
        },
        // Alone, the passkey is both factors: it must have verified the user (PIN, biometrics).
        requireUserVerification: alone,
      });
      verified = result.verified;
      newCounter = result.authenticationInfo.newCounter;
    } catch {
      // SimpleWebAuthn throws for a counter that did not move on, a wrong challenge,
      // origin or RP ID, and malformed data: all one refusal here.
      verified = false;
    }
    if (!verified) {
      throw new PasskeyError('verification_failed', 'The passkey could not be verified.');
    }
    if (!(await stores.passkeys.updateCounter(key.id, key.counter, newCounter))) {
      throw new PasskeyError('counter_replayed', 'The passkey answer was used already.');
    }
    return {
      email: key.email,
      popup: state.popup,
      ...(state.continue === undefined ? {} : { continue: state.continue }),
    };
  }
}
