// Property tests: every parser takes hostile input and either returns a value or throws a
// BssoError; nothing else ever escapes (threats 24-26, 29). Short by default; the long run:
//   FUZZ_RUNS=100000 npm run fuzz -w @bsso/protocol
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { base64url } from 'jose';
import {
  ASSERTION_TYP,
  BssoError,
  checkVerificationAnswer,
  configUrlFromJrd,
  createJrd,
  createProviderConfig,
  decodeAssertion,
  parseAssertionAnswer,
  parseAssertionRequest,
  parseAssociationAnswer,
  parseAssociationRequest,
  parseChallengeAnswer,
  parseDomain,
  parseEmail,
  parseEndpointForPage,
  parseProviderConfig,
  parseSecureUrl,
  parseVerificationRequest,
  safeReturnPath,
  WEBFINGER_REL,
} from '../src/index.ts';

const numRuns = Number(process.env.FUZZ_RUNS ?? 150);
const alice = parseEmail('alice@mail.example');
const CONFIG_URL = 'https://mail.example/.well-known/bsso-provider';
const config = createProviderConfig('https://mail.example', {
  assertion_endpoint: '/a',
  association_endpoint: '/b',
  verification_endpoint: '/v',
  signin_endpoint: '/s',
});
const claims = {
  iss: 'https://mail.example',
  sub: 'alice@mail.example',
  aud: 'https://site.example/bsso',
  nonce: 'n'.repeat(43),
  iat: 1_900_000_000,
  exp: 1_900_000_120,
  jti: 'j'.repeat(22),
};

/** Only BssoErrors may escape a parser. */
function total(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BssoError, `escaped: ${String(err)}`);
  }
}

// Hostile strings: random text, URL-ish and address-ish shapes, control and odd characters.
const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .tuple(
      fc.constantFrom('https://', 'http://', '//', '/', 'javascript:', 'data:', '/\\', ''),
      fc.string({ maxLength: 60 }),
    )
    .map(([a, b]) => a + b),
  fc
    .tuple(fc.string({ maxLength: 30 }), fc.constantFrom('@', '@@', '@[', '.'), fc.domain())
    .map(([a, b, c]) => a + b + c),
  fc.emailAddress(),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);
const value = fc.oneof(text, fc.anything(), fc.jsonValue());

// Return paths as an attacker writes them (threat 45): dot segments (plain and
// percent-encoded), encoded slashes and backslashes, raw backslashes, tabs and other control
// characters, host-like segments, and the separators between them. Weighted so that most
// paths pass the input checks and reach the normalisation.
const dotPiece = fc.constantFrom('.', '..', '%2e', '%2E', '.%2e', '%2e.', '%2e%2e', '%2E%2e');
const plainPiece = fc.constantFrom(
  '',
  'a',
  'evil.example',
  'x:y',
  '@',
  ';',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%09',
  '%0a',
  '%0d',
  '%00',
  '%20',
  '%252e',
);
const hostileChar = fc.constantFrom('\\', '\t', '\n', '\r', '\u0000', '\u007f', ' ', '?', '#');
const piece = fc.oneof(
  { arbitrary: dotPiece, weight: 3 },
  { arbitrary: plainPiece, weight: 3 },
  { arbitrary: hostileChar, weight: 1 },
);
const separator = fc.oneof(
  { arbitrary: fc.constantFrom('/', '//'), weight: 6 },
  { arbitrary: fc.constantFrom('\\', '/\\', '%2f', '%5c', '/\t', '\t/'), weight: 1 },
);
const returnPath = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constant('/'), weight: 6 }, fc.constantFrom('', '\\', '%2f')),
    fc.array(fc.tuple(piece, separator), { maxLength: 6 }),
    piece,
  )
  .map(([start, parts, end]) => start + parts.map(([p, sep]) => p + sep).join('') + end);
/** A valid object with one member replaced, removed, or one added. */
function mutated(base: Record<string, unknown>) {
  const keys = Object.keys(base);
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...keys), value)
      .map(([k, v]) => ({ ...base, [k]: v }) as Record<string, unknown>),
    fc.constantFrom(...keys).map((k) => {
      const { [k]: _gone, ...rest } = base;
      return rest;
    }),
    fc.tuple(fc.string({ maxLength: 20 }), value).map(([k, v]) => ({ ...base, [k]: v })),
  );
}
const enc = (v: unknown) => base64url.encode(JSON.stringify(v) ?? 'null');
const header = { alg: 'HS256', typ: ASSERTION_TYP, kid: 'k'.repeat(22) };
const token = fc.oneof(
  text,
  fc.tuple(mutated(header), mutated(claims), fc.string()).map(([h, c, s]) => {
    return `${enc(h)}.${enc(c)}.${base64url.encode(s)}`;
  }),
  fc.array(fc.base64String(), { maxLength: 6 }).map((parts) => parts.join('.')),
);

describe('parsers under hostile input', () => {
  it('decodeAssertion', () => {
    fc.assert(
      fc.property(token, (t) => total(() => decodeAssertion(t))),
      { numRuns },
    );
  });

  it('parseEmail and parseDomain', () => {
    fc.assert(
      fc.property(value, (v) => {
        total(() => parseEmail(v));
        total(() => parseDomain(v));
      }),
      { numRuns },
    );
  });

  it('parseSecureUrl and parseEndpointForPage', () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, dev) => {
        total(() => parseSecureUrl(v, { allowLocalhostHttp: dev }));
        total(() => parseEndpointForPage(v, 'https://site.example/page'));
      }),
      { numRuns },
    );
  });

  it('safeReturnPath always answers a same-origin path', () => {
    fc.assert(
      fc.property(fc.oneof(returnPath, returnPath, value), (v) => {
        const path = safeReturnPath(v);
        assert.ok(path.startsWith('/') && !path.startsWith('//') && !path.includes('\\'), path);
        // Printable ASCII only: no space, backslash or control character.
        assert.match(path, /^[!-[\]-~]+$/, path);
        // A browser resolving the answer as a Location stays on the origin, at that path.
        for (const origin of ['https://site.example', 'http://localhost:8080']) {
          const url = new URL(path, origin);
          assert.equal(url.origin, origin, path);
          assert.equal(url.pathname + url.search, path);
        }
      }),
      { numRuns },
    );
  });

  it('configUrlFromJrd and parseProviderConfig', () => {
    const jrd = createJrd(alice, CONFIG_URL);
    const link = jrd.links[0] ?? { rel: WEBFINGER_REL, href: CONFIG_URL };
    fc.assert(
      fc.property(
        fc.oneof(value, mutated(jrd), mutated({ ...jrd, links: [link] }), mutated(link)),
        mutated({ ...config }),
        (j, c) => {
          total(() => configUrlFromJrd(j, alice));
          total(() => parseProviderConfig(c, CONFIG_URL));
        },
      ),
      { numRuns },
    );
  });

  it('request and answer parsers', () => {
    const request = { email: 'alice@mail.example', audience: claims.aud, nonce: claims.nonce };
    fc.assert(
      fc.property(
        fc.oneof(value, mutated(request)),
        fc.oneof(value, mutated({ site: 'https://site.example' })),
        fc.oneof(value, mutated({ handle: 'h'.repeat(22), key: 'k'.repeat(43), alg: 'HS256' })),
        fc.oneof(value, mutated({ valid: true, claims })),
        fc.integer({ min: 100, max: 599 }),
        (r, s, a, v, status) => {
          total(() => parseAssertionRequest(r));
          total(() => parseAssertionAnswer(status, r, 'https://mail.example'));
          total(() => parseAssociationRequest(s));
          total(() => parseAssociationAnswer(a));
          total(() => parseChallengeAnswer(r));
          total(() => parseVerificationRequest(v));
          total(() => checkVerificationAnswer(v, claims));
        },
      ),
      { numRuns },
    );
  });
});
