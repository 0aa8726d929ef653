// One sign-in flow per tab, as a small state machine. The state lives in the worker's memory
// and in browser.storage.session (the service worker may stop between two messages);
// transitions are pure so they can be tested without a browser.
import { parseEmail } from '@bsso/protocol';
import type { StorageAreaLike } from '../shared/storage.ts';

type FlowPhase = FlowState['phase'];

interface FlowBase {
  /** The site's endpoint URL the flow is bound to. */
  endpoint: string;
  /** When the flow began, ms since the epoch. */
  startedAt: number;
}

/**
 * Begun: the user is asked for an address or a confirmation (Extension processing, step 2),
 * then the address's provider is discovered (step 3). Nothing about the user is known yet.
 */
interface DiscoveringFlow extends FlowBase {
  phase: 'discovering';
}

/** The agreed address and its discovered provider: known from `ready` on. */
interface FlowProvider {
  email: string;
  issuer: string;
  assertionEndpoint: string;
}

/**
 * `ready`: waiting for the page's challenge (step 4); `asserting`: the assertion request
 * (step 5); `signing_in`: the provider's sign-in popup is open (step 5, on login_required).
 */
export interface ProviderFlow extends FlowBase, FlowProvider {
  phase: 'ready' | 'asserting' | 'signing_in';
}

/** A tab's flow, keyed on its phase: the address and provider exist exactly once known. */
export type FlowState = DiscoveringFlow | ProviderFlow;

type FlowEvent =
  | { kind: 'begin'; endpoint: string }
  | ({ kind: 'discovered' } & FlowProvider)
  | { kind: 'assert'; endpoint: string }
  | { kind: 'login_required' }
  | { kind: 'popup_closed' }
  | { kind: 'end' };

type Transition =
  | { ok: true; state: FlowState | undefined }
  | { ok: false; code: 'busy' | 'no_flow' };

/** A flow older than this is treated as gone (the worker died mid-flow, or the user left). */
export const FLOW_MAX_AGE_MS = 7 * 60 * 1000;

/** Phases in which the background is working for the tab: a new begin is refused. */
const BUSY: readonly FlowPhase[] = ['discovering', 'asserting', 'signing_in'];

/** The next state of a tab's flow, or why the event is refused. */
export function nextFlow(
  current: FlowState | undefined,
  event: FlowEvent,
  now: number,
  maxAgeMs = FLOW_MAX_AGE_MS,
): Transition {
  const live = current !== undefined && now - current.startedAt <= maxAgeMs ? current : undefined;
  switch (event.kind) {
    case 'begin':
      if (live && BUSY.includes(live.phase)) return { ok: false, code: 'busy' };
      return {
        ok: true,
        state: { phase: 'discovering', endpoint: event.endpoint, startedAt: now },
      };
    case 'discovered':
      if (live?.phase !== 'discovering') return { ok: false, code: 'no_flow' };
      return {
        ok: true,
        state: {
          phase: 'ready',
          endpoint: live.endpoint,
          startedAt: live.startedAt,
          email: event.email,
          issuer: event.issuer,
          assertionEndpoint: event.assertionEndpoint,
        },
      };
    case 'assert':
      // The assertion is only ever asked for the endpoint this tab's flow began with.
      if (live?.phase !== 'ready' || live.endpoint !== event.endpoint) {
        return { ok: false, code: 'no_flow' };
      }
      return { ok: true, state: { ...live, phase: 'asserting' } };
    case 'login_required':
      if (live?.phase !== 'asserting') return { ok: false, code: 'no_flow' };
      return { ok: true, state: { ...live, phase: 'signing_in' } };
    case 'popup_closed':
      if (live?.phase !== 'signing_in') return { ok: false, code: 'no_flow' };
      return { ok: true, state: { ...live, phase: 'asserting' } };
    case 'end':
      return { ok: true, state: undefined };
  }
}

export interface FlowStore {
  /** Applies an event to a tab's flow; serialized per tab so two messages cannot interleave. */
  apply(tabId: number, event: FlowEvent): Promise<Transition>;
  get(tabId: number): Promise<FlowState | undefined>;
  clear(tabId: number): Promise<void>;
}

function keyFor(tabId: number): string {
  return `flow:${tabId}`;
}

const FIELDS: Record<FlowPhase, readonly string[]> = {
  discovering: ['phase', 'endpoint', 'startedAt'],
  ready: ['phase', 'endpoint', 'startedAt', 'email', 'issuer', 'assertionEndpoint'],
  asserting: ['phase', 'endpoint', 'startedAt', 'email', 'issuer', 'assertionEndpoint'],
  signing_in: ['phase', 'endpoint', 'startedAt', 'email', 'issuer', 'assertionEndpoint'],
};

function isPhase(value: unknown): value is FlowPhase {
  return typeof value === 'string' && Object.hasOwn(FIELDS, value);
}

function isUrl(value: unknown): value is string {
  return typeof value === 'string' && URL.canParse(value);
}

function isAddress(value: unknown): value is string {
  try {
    return parseEmail(value).address === value;
  } catch {
    return false;
  }
}

/**
 * A stored flow as read back, or undefined (no flow): exactly the fields of its phase, each of
 * the right shape (storage is re-validated on every read).
 */
export function readState(value: unknown): FlowState | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (!isPhase(v.phase)) return undefined;
  const fields = FIELDS[v.phase];
  const keys = Object.keys(v);
  if (keys.length !== fields.length || !keys.every((k) => fields.includes(k))) return undefined;
  const { phase, endpoint, startedAt } = v;
  if (!isUrl(endpoint) || typeof startedAt !== 'number' || !Number.isFinite(startedAt)) {
    return undefined;
  }
  if (phase === 'discovering') return { phase, endpoint, startedAt };
  const { email, issuer, assertionEndpoint } = v;
  if (!isAddress(email) || !isUrl(issuer) || !isUrl(assertionEndpoint)) return undefined;
  return { phase, endpoint, startedAt, email, issuer, assertionEndpoint };
}

/** The flow store of the worker: `settled` resolves once every write so far is in storage. */
export interface MemoryFlowStore extends FlowStore {
  settled(): Promise<void>;
}

/**
 * Flows kept in memory while the worker lives and written through to `area`
 * (storage.session) without waiting for the write: the transitions of a tab are serialized
 * on memory, so the busy rule and their order hold; the writes of a tab go out one after the
 * other in that same order, so storage ends with the last state. A new worker starts with
 * an empty memory and reads a tab's flow from storage once, which is how a worker restart
 * mid-flow behaves as before.
 */
export function createFlowStore(area: StorageAreaLike, now: () => number): MemoryFlowStore {
  // Only a queue for ordering: losing it with the worker loses nothing stored.
  const queues = new Map<number, Promise<unknown>>();
  const serialize = <T>(tabId: number, task: () => Promise<T>): Promise<T> => {
    const previous = queues.get(tabId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    queues.set(tabId, settled);
    void settled.then(() => {
      if (queues.get(tabId) === settled) queues.delete(tabId);
    });
    return run;
  };
  /** A tab's flow as this worker knows it (undefined: known to have none). */
  const memory = new Map<number, FlowState | undefined>();
  /** Per tab, the write chain to storage. */
  const writes = new Map<number, Promise<void>>();
  const persist = (tabId: number, state: FlowState | undefined, forget = false): void => {
    const key = keyFor(tabId);
    const previous = writes.get(tabId) ?? Promise.resolve();
    const written = previous
      .then(() => (state === undefined ? area.remove(key) : area.set({ [key]: state })))
      // A failed write leaves memory right for this worker; a later one may still land.
      .catch(() => undefined);
    writes.set(tabId, written);
    void written.then(() => {
      if (writes.get(tabId) !== written) return;
      writes.delete(tabId);
      // A closed tab's memory goes once its removal is in storage.
      if (forget && memory.get(tabId) === undefined) memory.delete(tabId);
    });
  };
  const get = async (tabId: number): Promise<FlowState | undefined> => {
    if (memory.has(tabId)) return memory.get(tabId);
    const stored = readState((await area.get(keyFor(tabId)))[keyFor(tabId)]);
    // A transition made while storage answered is newer than what it said.
    if (!memory.has(tabId)) memory.set(tabId, stored);
    return memory.get(tabId);
  };
  return {
    get,
    apply: (tabId, event) =>
      serialize(tabId, async () => {
        const result = nextFlow(await get(tabId), event, now());
        if (!result.ok) return result;
        memory.set(tabId, result.state);
        persist(tabId, result.state);
        return result;
      }),
    clear: (tabId) =>
      serialize(tabId, async () => {
        memory.set(tabId, undefined);
        persist(tabId, undefined, true);
      }),
    settled: async () => {
      while (writes.size > 0) await Promise.all(writes.values());
    },
  };
}
