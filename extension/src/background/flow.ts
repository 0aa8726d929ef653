// One sign-in flow per tab, as a small state machine. The state lives in
// browser.storage.session (the service worker may stop between two messages); transitions
// are pure so they can be tested without a browser.
import type { StorageAreaLike } from '../shared/storage.ts';

export type FlowPhase = 'discovering' | 'ready' | 'asserting' | 'signing_in';

export interface FlowState {
  phase: FlowPhase;
  /** The site's endpoint URL the flow is bound to. */
  endpoint: string;
  /** Set once an address is chosen and its provider discovered. */
  email?: string;
  issuer?: string;
  assertionEndpoint?: string;
  /** When the flow began, ms since the epoch. */
  startedAt: number;
}

export type FlowEvent =
  | { kind: 'begin'; endpoint: string }
  | { kind: 'discovered'; email: string; issuer: string; assertionEndpoint: string }
  | { kind: 'assert'; endpoint: string }
  | { kind: 'login_required' }
  | { kind: 'popup_closed' }
  | { kind: 'end' };

export type Transition =
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
          ...live,
          phase: 'ready',
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

function readState(value: unknown): FlowState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<FlowState>;
  if (typeof v.endpoint !== 'string' || typeof v.startedAt !== 'number') return undefined;
  if (!['discovering', 'ready', 'asserting', 'signing_in'].includes(v.phase ?? ''))
    return undefined;
  return v as FlowState;
}

export function createFlowStore(area: StorageAreaLike, now: () => number): FlowStore {
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
  const get = async (tabId: number) => readState((await area.get(keyFor(tabId)))[keyFor(tabId)]);
  return {
    get,
    apply: (tabId, event) =>
      serialize(tabId, async () => {
        const result = nextFlow(await get(tabId), event, now());
        if (!result.ok) return result;
        if (result.state === undefined) await area.remove(keyFor(tabId));
        else await area.set({ [keyFor(tabId)]: result.state });
        return result;
      }),
    clear: (tabId) => serialize(tabId, () => area.remove(keyFor(tabId))),
  };
}
