// Property tests of the web endpoint (protocol-spec.md#web-flow; threat 48) over real HTTP:
// hostile queries and consent forms from a signed-in browser that agreed to the site never
// get a 500 or a hang, and a delivery form only ever appears for a valid request, POSTing an
// assertion for exactly its action to exactly the audience. Long run:
//   FUZZ_RUNS=100000 node --conditions=bsso-source --test test/fuzz-web-signin.test.ts
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeAssertion, parseWebAudience } from '@bsso/protocol';
import fc from 'fast-check';
import { AUDIENCE, Browser, PASSWORD, type Running, removeDir, startProvider } from './helpers.ts';

const numRuns = Number(process.env.FUZZ_RUNS ?? 40);
const ALICE = 'alice@mail.test';

const text = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);
const params = fc.record(
  {
    audience: fc.oneof(
      text,
      fc.constantFrom(
        AUDIENCE,
        'https://other.test/bsso',
        'http://site.test/bsso',
        `${AUDIENCE}?x=1`,
        'https://site.test',
      ),
    ),
    nonce: fc.oneof(text, fc.constant('n'.repeat(43))),
    login_hint: fc.oneof(text, fc.constantFrom(ALICE, 'ALICE@mail.test', 'bob@mail.test')),
    handle: text,
    return_to: fc.oneof(text, fc.constantFrom('/', '/a?b=c', '//evil.test', '/\\x')),
    extra: text,
  },
  { requiredKeys: [] },
);

function deliveryOf(page: string): { action: string; assertion: string } | undefined {
  const m =
    /<form method="post" action="([^"]+)" id="delivery">[\s\S]*?name="assertion" value="([^"]+)"/.exec(
      page,
    );
  return m?.[1] && m[2] ? { action: m[1].replaceAll('&amp;', '&'), assertion: m[2] } : undefined;
}

describe('web endpoint under hostile requests', () => {
  let p: Running;
  let alice: Browser;
  let csrf: string;
  before(async () => {
    p = await startProvider({
      assertionsPerClientPerMinute: 1_000_000,
      assertionsPerSessionPerMinute: 1_000_000,
    });
    await p.provider.accounts.create(ALICE, PASSWORD);
    alice = new Browser(p.base);
    await alice.signIn(ALICE, PASSWORD);
    const query = new URLSearchParams({
      audience: AUDIENCE,
      nonce: 'n'.repeat(43),
      login_hint: ALICE,
    });
    const page = await (await alice.fetch(`/bsso/web?${query}`)).text();
    csrf = /name="csrf_token" value="([^"]+)"/.exec(page)?.[1] ?? '';
    await alice.postForm('/bsso/web', {
      csrf_token: csrf,
      decision: 'continue',
      ...Object.fromEntries(query),
    });
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  async function check(res: Response, sent: Record<string, string>): Promise<void> {
    assert.ok(res.status < 500, `status ${res.status}`);
    const delivery = deliveryOf(await res.text());
    if (delivery === undefined) return;
    // Only a valid request gets a form, and it goes to the audience exactly.
    assert.equal(delivery.action, sent.audience);
    assert.equal(parseWebAudience(sent.audience).href, sent.audience);
    assert.equal(decodeAssertion(delivery.assertion).claims.aud, delivery.action);
    assert.equal(res.headers.get('location'), null);
  }

  it('GET /bsso/web with hostile queries', async () => {
    await fc.assert(
      fc.asyncProperty(params, async ({ extra, ...fields }) => {
        const query = new URLSearchParams(fields);
        if (extra !== undefined) query.append('audience', extra);
        const res = await alice.fetch(`/bsso/web?${query}`, { signal: AbortSignal.timeout(5000) });
        await check(res, Object.fromEntries(query));
      }),
      { numRuns },
    );
  });

  it('POST /bsso/web with hostile consent forms', async () => {
    await fc.assert(
      fc.asyncProperty(
        params,
        fc.constantFrom('continue', 'cancel', 'x', ''),
        async ({ extra, ...fields }, decision) => {
          const form = {
            csrf_token: csrf,
            decision,
            ...fields,
            ...(extra === undefined ? {} : { x: extra }),
          };
          const res = await alice.postForm('/bsso/web', form);
          await check(res, fields as Record<string, string>);
        },
      ),
      { numRuns },
    );
  });
});
