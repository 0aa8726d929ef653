import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createFlowStore,
  FLOW_MAX_AGE_MS,
  type FlowState,
  nextFlow,
  readState,
} from '../src/background/flow.ts';
import { memoryArea } from './memory-area.ts';

const EP = 'https://site.test/bsso';
const found = {
  kind: 'discovered',
  email: 'a@mail.test',
  issuer: 'https://mail.test',
  assertionEndpoint: 'https://mail.test/bsso/assertion',
} as const;

function run(events: Parameters<typeof nextFlow>[1][], now = 1000): FlowState | undefined {
  let state: FlowState | undefined;
  for (const e of events) {
    const r = nextFlow(state, e, now);
    assert.ok(r.ok, `${e.kind} refused`);
    state = r.state;
  }
  return state;
}

describe('nextFlow', () => {
  test('the happy path: begin, discovered, assert, end', () => {
    const s = run([{ kind: 'begin', endpoint: EP }, found, { kind: 'assert', endpoint: EP }]);
    assert.deepEqual(s, {
      phase: 'asserting',
      endpoint: EP,
      startedAt: 1000,
      email: 'a@mail.test',
      issuer: 'https://mail.test',
      assertionEndpoint: 'https://mail.test/bsso/assertion',
    });
    assert.equal(nextFlow(s, { kind: 'end' }, 1000).ok, true);
  });
  test('sign-in popup: asserting -> signing_in -> asserting', () => {
    const s = run([
      { kind: 'begin', endpoint: EP },
      found,
      { kind: 'assert', endpoint: EP },
      { kind: 'login_required' },
    ]);
    assert.equal(s?.phase, 'signing_in');
    assert.equal(
      run([
        { kind: 'begin', endpoint: EP },
        found,
        { kind: 'assert', endpoint: EP },
        { kind: 'login_required' },
        { kind: 'popup_closed' },
      ])?.phase,
      'asserting',
    );
  });
  test('a second begin while the background works is busy', () => {
    for (const events of [
      [{ kind: 'begin', endpoint: EP }],
      [{ kind: 'begin', endpoint: EP }, found, { kind: 'assert', endpoint: EP }],
      [
        { kind: 'begin', endpoint: EP },
        found,
        { kind: 'assert', endpoint: EP },
        { kind: 'login_required' },
      ],
    ] as const) {
      const r = nextFlow(run([...events]), { kind: 'begin', endpoint: EP }, 1000);
      assert.deepEqual(r, { ok: false, code: 'busy' });
    }
  });
  test('a begin after a stale flow starts afresh', () => {
    const s = run([{ kind: 'begin', endpoint: EP }]);
    const r = nextFlow(s, { kind: 'begin', endpoint: EP }, 1000 + FLOW_MAX_AGE_MS + 1);
    assert.equal(r.ok && r.state?.phase, 'discovering');
  });
  test('assert needs a ready flow for the same endpoint', () => {
    assert.deepEqual(nextFlow(undefined, { kind: 'assert', endpoint: EP }, 1000), {
      ok: false,
      code: 'no_flow',
    });
    const ready = run([{ kind: 'begin', endpoint: EP }, found]);
    assert.deepEqual(
      nextFlow(ready, { kind: 'assert', endpoint: 'https://site.test/other' }, 1000),
      {
        ok: false,
        code: 'no_flow',
      },
    );
    const asserting = run([
      { kind: 'begin', endpoint: EP },
      found,
      { kind: 'assert', endpoint: EP },
    ]);
    assert.deepEqual(nextFlow(asserting, { kind: 'assert', endpoint: EP }, 1000), {
      ok: false,
      code: 'no_flow',
    });
  });
  test('events out of order are refused', () => {
    assert.equal(nextFlow(undefined, found, 1000).ok, false);
    assert.equal(nextFlow(undefined, { kind: 'login_required' }, 1000).ok, false);
    assert.equal(
      nextFlow(run([{ kind: 'begin', endpoint: EP }]), { kind: 'popup_closed' }, 1000).ok,
      false,
    );
  });
});

describe('createFlowStore', () => {
  test('keeps flows per tab and serializes concurrent begins', async () => {
    const store = createFlowStore(memoryArea(), () => 1000);
    const [a, b] = await Promise.all([
      store.apply(1, { kind: 'begin', endpoint: EP }),
      store.apply(1, { kind: 'begin', endpoint: EP }),
    ]);
    assert.equal(a.ok, true);
    assert.deepEqual(b, { ok: false, code: 'busy' });
    assert.equal((await store.apply(2, { kind: 'begin', endpoint: EP })).ok, true, 'other tab');
    await store.clear(1);
    assert.equal(await store.get(1), undefined);
  });

  test('keeps flows in memory and writes each state to storage, in order', async () => {
    const area = memoryArea();
    let gets = 0;
    // Writes wait until the test lets them go, the latest first: their order must still hold.
    const held: (() => void)[] = [];
    const gated = {
      ...area,
      get: (keys: string | string[]) => {
        gets++;
        return area.get(keys);
      },
      set: async (items: Record<string, unknown>) => {
        await new Promise<void>((resolve) => held.push(resolve));
        await area.set(items);
      },
    };
    const release = async () => {
      for (let i = 0; i < 20; i++) {
        while (held.length > 0) held.pop()?.();
        await Promise.resolve();
      }
    };
    const store = createFlowStore(gated, () => 1000);
    assert.equal((await store.apply(1, { kind: 'begin', endpoint: EP })).ok, true);
    assert.equal((await store.apply(1, found)).ok, true);
    assert.equal((await store.apply(1, { kind: 'assert', endpoint: EP })).ok, true);
    assert.equal(gets, 1, 'storage is read once, when the tab is first seen');
    await release();
    await store.settled();
    assert.equal((area.data.get('flow:1') as FlowState).phase, 'asserting');
    assert.equal((await store.apply(1, { kind: 'end' })).ok, true);
    assert.equal((await store.apply(1, { kind: 'begin', endpoint: EP })).ok, true);
    await release();
    await store.settled();
    assert.equal((area.data.get('flow:1') as FlowState).phase, 'discovering');
    assert.equal(gets, 1);
    await store.clear(1);
    await store.settled();
    assert.equal(area.data.has('flow:1'), false);
  });

  test('a worker restart mid-flow reads the flow back from storage', async () => {
    const area = memoryArea();
    const before = createFlowStore(area, () => 1000);
    await before.apply(1, { kind: 'begin', endpoint: EP });
    await before.settled();
    // A new worker: empty memory, the same storage.session.
    const after = createFlowStore(area, () => 2000);
    assert.deepEqual(await after.apply(1, { kind: 'begin', endpoint: EP }), {
      ok: false,
      code: 'busy',
    });
    assert.equal((await after.apply(1, found)).ok, true);
    await after.settled();
    const again = createFlowStore(area, () => 3000);
    const asserting = await again.apply(1, { kind: 'assert', endpoint: EP });
    assert.equal(asserting.ok && asserting.state?.phase, 'asserting');
    assert.equal(asserting.ok && asserting.state?.startedAt, 1000);
  });

  test('a failed storage write does not fail the transition', async () => {
    const area = memoryArea();
    const store = createFlowStore(
      {
        ...area,
        set: async () => {
          throw new Error('quota');
        },
      },
      () => 1000,
    );
    assert.equal((await store.apply(1, { kind: 'begin', endpoint: EP })).ok, true);
    assert.deepEqual(await store.apply(1, { kind: 'begin', endpoint: EP }), {
      ok: false,
      code: 'busy',
    });
    await store.settled();
  });
});

describe('readState', () => {
  const begun = { phase: 'discovering', endpoint: EP, startedAt: 1000 };
  const known = {
    endpoint: EP,
    startedAt: 1000,
    email: 'a@mail.test',
    issuer: 'https://mail.test',
    assertionEndpoint: 'https://mail.test/bsso/assertion',
  };

  test('reads back each phase with exactly its fields', () => {
    assert.deepEqual(readState(begun), begun);
    for (const phase of ['ready', 'asserting', 'signing_in'] as const) {
      assert.deepEqual(readState({ phase, ...known }), { phase, ...known });
    }
  });

  test('the address and provider exist exactly in the phases that know them', () => {
    assert.equal(readState({ ...begun, email: 'a@mail.test' }), undefined);
    assert.equal(readState({ ...begun, ...known, phase: 'discovering' }), undefined);
    for (const phase of ['ready', 'asserting', 'signing_in'] as const) {
      for (const field of ['email', 'issuer', 'assertionEndpoint'] as const) {
        const { [field]: _dropped, ...rest } = known;
        assert.equal(readState({ phase, ...rest }), undefined, `${phase} without ${field}`);
      }
    }
  });

  test('anything else is no flow', () => {
    for (const value of [
      undefined,
      null,
      'discovering',
      [begun],
      {},
      { ...begun, phase: 'done' },
      { ...begun, phase: undefined },
      { ...begun, endpoint: 42 },
      { ...begun, endpoint: 'not a url' },
      { ...begun, startedAt: '1000' },
      { ...begun, startedAt: Number.NaN },
      { ...begun, extra: true },
      { phase: 'ready', ...known, email: 'not an address' },
      { phase: 'ready', ...known, email: 'A@Mail.Test' },
      { phase: 'ready', ...known, email: '' },
      { phase: 'ready', ...known, issuer: '' },
      { phase: 'asserting', ...known, assertionEndpoint: null },
      { phase: 'signing_in', ...known, extra: 1 },
    ]) {
      assert.equal(readState(value), undefined, JSON.stringify(value));
    }
  });

  test('a store holding a malformed flow has no flow, and a begin starts afresh', async () => {
    const area = memoryArea();
    const store = createFlowStore(area, () => 1000);
    await area.set({ 'flow:1': { phase: 'asserting', endpoint: EP, startedAt: 1000 } });
    assert.equal(await store.get(1), undefined);
    assert.deepEqual(await store.apply(1, { kind: 'assert', endpoint: EP }), {
      ok: false,
      code: 'no_flow',
    });
    const begun = await store.apply(1, { kind: 'begin', endpoint: EP });
    assert.equal(begun.ok && begun.state?.phase, 'discovering');
  });
});
