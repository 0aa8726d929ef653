// The background's one handler map: every message is validated, its sender checked, and
// answered with a result object. No browser API is imported here; index.ts injects them.
import {
  type ChallengeAnswer,
  challengeUrl,
  decodeAssertion,
  type FetchLike,
  limits,
  parseAssertionAnswer,
  parseChallengeAnswer,
  parseEmail,
  parsePageChallenge,
  requestJson,
} from '@bsso/protocol';
import { chooserKey, readChooserRequest } from '../shared/chooser-request.ts';
import {
  type AssertMessage,
  type AvailableMessage,
  type BeginMessage,
  type ChooseMessage,
  type DiscoverMessage,
  type Failure,
  failure,
  type Message,
  type MessageType,
  parseMessage,
  type ResultFor,
} from '../shared/messages.ts';
import { endpointForPage, resolveEmailChoice, toFailure } from '../shared/rules.ts';
import {
  isConnectedSite,
  readPreferences,
  recordConnectedSite,
  rememberSiteChoice,
  type StorageAreaLike,
} from '../shared/storage.ts';
import { checkIssuedAssertion } from './check-assertion.ts';
import type { Chooser } from './chooser.ts';
import type { DiscoveryLookup } from './discovery-cache.ts';
import type { FlowStore, ProviderFlow } from './flow.ts';
import { createHandleCache, type HandleCache } from './handle-cache.ts';
import type { SignInPopup } from './popup.ts';

/** What the background knows about a message's sender (runtime.MessageSender). */
export interface SenderLike {
  id?: string;
  url?: string;
  frameId?: number;
  tab?: { id?: number };
}

export interface BackgroundDeps {
  /** browser.storage.local: preferences and caches. */
  local: StorageAreaLike;
  /** browser.storage.session: chooser requests. */
  session: StorageAreaLike;
  flows: FlowStore;
  discovery: DiscoveryLookup;
  chooser: Chooser;
  signIn: SignInPopup;
  openOptions: () => Promise<void>;
  /** Marks a tab's toolbar icon: this page offers BSSO (cleared by the browser on navigation). */
  markAvailable: (tabId: number) => Promise<void>;
  fetch: FetchLike;
  now: () => number;
  /** The extension's base URL, runtime.getURL(''), e.g. chrome-extension://<id>/. */
  extensionBase: string;
  /** The chooser page's URL without query. */
  chooserUrl: string;
  /** Budget of each request to the provider, in ms. Default 15 s. */
  networkTimeoutMs?: number;
  /** Handles reusable with page challenges; default in `local`. */
  handles?: HandleCache;
}

export type Handlers = {
  [K in MessageType]: (
    message: Extract<Message, { type: K }>,
    sender: SenderLike,
  ) => Promise<ResultFor<K>>;
};

/**
 * The tab a content-script message comes from, if it may speak for `endpoint`: a tab's top
 * frame whose page is on the endpoint's origin, under the same https rule the page obeys.
 */
function contentSenderTab(sender: SenderLike, endpoint: string): number | Failure {
  const tabId = sender.tab?.id;
  if (tabId === undefined || sender.frameId !== 0 || sender.url === undefined) {
    return failure('sender_rejected');
  }
  const checked = endpointForPage(endpoint, sender.url);
  if (!checked.ok) return checked;
  if (checked.endpoint !== endpoint) return failure('sender_rejected');
  return tabId;
}

/**
 * True when the sender is one of the extension's own pages (optionally a given page). Compared
 * by prefix: URL.origin of extension schemes is not the same in every runtime.
 */
function isExtensionPage(sender: SenderLike, base: string, page?: string): boolean {
  if (sender.url === undefined || !base.endsWith('/') || !sender.url.startsWith(base)) {
    return false;
  }
  return page === undefined || sender.url.split(/[?#]/)[0] === page;
}

export function createHandlers(deps: BackgroundDeps): Handlers {
  const timeoutMs = deps.networkTimeoutMs ?? 15_000;
  const handles = deps.handles ?? createHandleCache(deps.local, deps.now);
  /** Per tab, a discovery running beside the challenge request (begin, step 3). */
  const discoveries = new Map<number, Promise<void>>();

  /** Step 5 of protocol-spec.md#extension-processing: the assertion request, with credentials. */
  const requestAssertion = async (flow: ProviderFlow, challenge: ChallengeAnswer) => {
    const body: Record<string, string> = {
      email: flow.email,
      audience: flow.endpoint,
      nonce: challenge.nonce,
    };
    if (challenge.handle !== undefined) body.handle = challenge.handle;
    const answer = await requestJson(flow.assertionEndpoint, {
      fetch: deps.fetch,
      method: 'POST',
      credentials: 'include',
      body,
      timeoutMs,
    });
    return parseAssertionAnswer(answer.status, answer.body, flow.issuer);
  };

  /**
   * The address the site gets, once the user has agreed: a remembered choice for the site, or
   * a default address the user confirms in the extension's window unless it was already used
   * there (or the setting is off), or one the user picks in the chooser (which is consent).
   * Nothing goes over the network before this (protocol-spec.md#extension-processing, step 2).
   */
  const consentedEmail = async (site: string): Promise<string | Failure> => {
    const prefs = await readPreferences(deps.local);
    const choice = resolveEmailChoice(prefs, site);
    if (choice.kind === 'none') {
      await deps.openOptions().catch(() => undefined);
      return failure('no_email');
    }
    if (choice.kind === 'chooser') {
      return (await deps.chooser.open({ kind: 'choose', site })) ?? failure('user_cancelled');
    }
    const agreed =
      choice.source === 'site' ||
      !prefs.confirmNewSites ||
      (await isConnectedSite(deps.local, site, choice.email));
    if (agreed) return choice.email;
    const confirmed = await deps.chooser.open({ kind: 'confirm', site, email: choice.email });
    return confirmed === choice.email ? confirmed : failure('user_cancelled');
  };

  const begin = async (
    message: BeginMessage,
    sender: SenderLike,
  ): Promise<ResultFor<'content-to-background:begin'>> => {
    // Step 1 (protocol-spec.md#extension-processing): the content script checked the markup
    // and the trusted click; the background checks that this tab's top page names the endpoint.
    const tabId = contentSenderTab(sender, message.endpoint);
    if (typeof tabId !== 'number') return tabId;
    const started = await deps.flows.apply(tabId, { kind: 'begin', endpoint: message.endpoint });
    if (!started.ok) return failure(started.code);
    try {
      // Step 2: choose and confirm the address.
      const email = await consentedEmail(new URL(message.endpoint).origin);
      if (typeof email !== 'string') {
        await deps.flows.apply(tabId, { kind: 'end' });
        return email;
      }
      const site = challengeUrl(message.endpoint, parseEmail(email).domain);
      // Step 3: discovery of the address's provider. Not cached: it runs while the content
      // script asks for the challenge (step 4), which names only the domain the user just
      // agreed to give the site; the assertion request waits for both.
      const known = deps.discovery.cached ? await deps.discovery.cached(email) : undefined;
      if (known === null) {
        const discovery = deps.discovery(email).then(
          async (provider) => {
            const next = await deps.flows.apply(tabId, { kind: 'discovered', email, ...provider });
            if (!next.ok) throw new FlowFailure(failure(next.code));
          },
          async (err: unknown) => {
            await deps.flows.apply(tabId, { kind: 'end' });
            throw err;
          },
        );
        discovery.catch(() => undefined); // an unhandled failure is the assert handler's
        discoveries.set(tabId, discovery);
        return { ok: true, challengeUrl: site };
      }
      const provider = known ?? (await deps.discovery(email));
      const next = await deps.flows.apply(tabId, { kind: 'discovered', email, ...provider });
      if (!next.ok) return failure(next.code);
      // Step 4 from the page: its nonce and a handle this site gave before, when both are
      // usable (protocol-spec.md#page-challenge); then no challenge request at all.
      const fromPage = await pageChallenge(message, provider.issuer);
      if (fromPage) {
        const started = await deps.flows.apply(tabId, {
          kind: 'assert',
          endpoint: message.endpoint,
        });
        if (!started.ok || started.state?.phase !== 'asserting') return failure('no_flow');
        const result = await assertFor(tabId, started.state, fromPage);
        // A provider that no longer knows the handle signs with its own key: stop offering it.
        if (result.ok && assertionKid(result.assertion) !== fromPage.handle) {
          await handles.forget(message.endpoint, provider.issuer).catch(() => undefined);
        }
        return result;
      }
      // Step 4 is otherwise the content script's: it GETs this challenge URL from the page
      // context. Only the domain goes to the site, and only now that the user has agreed.
      return { ok: true, challengeUrl: site };
    } catch (err) {
      await deps.flows.apply(tabId, { kind: 'end' });
      return toFailure(err);
    }
  };

  /**
   * The page's challenge as a challenge answer, when its nonce has the margin left and a
   * handle of this site for this issuer under the page's handle set is remembered; else null.
   */
  const pageChallenge = async (
    message: BeginMessage,
    issuer: string,
  ): Promise<ChallengeAnswer | null> => {
    const page = message.page && parsePageChallenge(message.page);
    if (!message.page || !page) return null;
    const leftMs = page.expiresIn * 1000 - message.page.ageMs;
    if (leftMs < limits.pageChallengeMarginSeconds * 1000) return null;
    const handle = await handles.usable(message.endpoint, issuer, page.handleSet);
    if (handle === null) return null;
    return { nonce: page.nonce, handle, expires_in: Math.floor(leftMs / 1000) };
  };

  const assert = async (
    message: AssertMessage,
    sender: SenderLike,
  ): Promise<ResultFor<'content-to-background:assert'>> => {
    const tabId = contentSenderTab(sender, message.endpoint);
    if (typeof tabId !== 'number') return tabId;
    // Step 4: the challenge the content script fetched, read here.
    let challenge: ChallengeAnswer;
    try {
      challenge = parseChallengeAnswer(message.challenge);
    } catch {
      await deps.flows.apply(tabId, { kind: 'end' });
      return failure('challenge_failed');
    }
    const discovery = discoveries.get(tabId);
    if (discovery) {
      discoveries.delete(tabId);
      try {
        await discovery;
      } catch (err) {
        return err instanceof FlowFailure ? err.failure : toFailure(err);
      }
    }
    const started = await deps.flows.apply(tabId, { kind: 'assert', endpoint: message.endpoint });
    if (!started.ok || started.state?.phase !== 'asserting') return failure('no_flow');
    // Remembered for the page challenges of this site's later pages, beside the request.
    const learning = handles
      .learn(message.endpoint, started.state.issuer, challenge)
      .catch(() => undefined);
    try {
      return await assertFor(tabId, started.state, challenge);
    } finally {
      await learning;
    }
  };

  /** Steps 5 and 6 for a flow in `asserting`; the flow ends whatever the outcome. */
  const assertFor = async (
    tabId: number,
    flow: ProviderFlow,
    challenge: ChallengeAnswer,
  ): Promise<{ ok: true; assertion: string } | Failure> => {
    try {
      // Step 5: the assertion request; on login_required the sign-in popup and one retry.
      let answer = await requestAssertion(flow, challenge);
      if (answer.kind === 'login_required') {
        await deps.flows.apply(tabId, { kind: 'login_required' });
        const outcome = await deps.signIn(answer.signinUrl, flow.issuer);
        // A popup that timed out cancels the sign-in: no retry (Sign-in popup, step 3).
        if (outcome === 'timeout') return failure('login_cancelled');
        const back = await deps.flows.apply(tabId, { kind: 'popup_closed' });
        if (!back.ok) return failure('login_cancelled');
        answer = await requestAssertion(flow, challenge);
        if (answer.kind === 'login_required') return failure('login_cancelled');
      }
      if (answer.kind === 'wrong_account') return failure('wrong_account');
      // Step 6: check the assertion before the content script delivers it (step 7).
      const refused = checkIssuedAssertion(answer.assertion, {
        email: flow.email,
        audience: flow.endpoint,
        nonce: challenge.nonce,
        issuer: flow.issuer,
      });
      if (refused) return refused;
      await recordConnectedSite(deps.local, {
        email: flow.email,
        site: new URL(flow.endpoint).origin,
        time: deps.now(),
      });
      return { ok: true, assertion: answer.assertion };
    } catch (err) {
      return toFailure(err);
    } finally {
      await deps.flows.apply(tabId, { kind: 'end' });
    }
  };

  const choose = async (
    message: ChooseMessage,
    sender: SenderLike,
  ): Promise<ResultFor<'chooser-to-background:choose'>> => {
    if (!isExtensionPage(sender, deps.extensionBase, deps.chooserUrl)) {
      return failure('sender_rejected');
    }
    const key = chooserKey(message.requestId);
    const request = readChooserRequest((await deps.session.get(key))[key]);
    if (!request || request.expiresAt < deps.now()) return failure('no_flow');
    if (request.kind === 'confirm') {
      // Continue answers with the address the window showed; nothing else can be confirmed.
      if (message.email !== null && message.email !== request.email) return failure('no_email');
      deps.chooser.answer(message.requestId, message.email);
      return { ok: true };
    }
    const prefs = await readPreferences(deps.local);
    if (message.email !== null && !prefs.emails.includes(message.email)) {
      return failure('no_email');
    }
    if (message.email !== null && message.remember) {
      await rememberSiteChoice(deps.local, request.site, message.email);
    }
    deps.chooser.answer(message.requestId, message.email);
    return { ok: true };
  };

  const available = async (
    message: AvailableMessage,
    sender: SenderLike,
  ): Promise<ResultFor<'content-to-background:available'>> => {
    const tabId = contentSenderTab(sender, message.endpoint);
    if (typeof tabId !== 'number') return tabId;
    await deps.markAvailable(tabId);
    return { ok: true };
  };

  const discover = async (
    message: DiscoverMessage,
    sender: SenderLike,
  ): Promise<ResultFor<'options-to-background:discover'>> => {
    if (!isExtensionPage(sender, deps.extensionBase)) return failure('sender_rejected');
    try {
      const email = parseEmail(message.email).address;
      const provider = await deps.discovery(email);
      return { ok: true, email, issuer: provider.issuer };
    } catch (err) {
      return toFailure(err);
    }
  };

  return {
    'content-to-background:begin': begin,
    'content-to-background:available': available,
    'content-to-background:assert': assert,
    'chooser-to-background:choose': choose,
    'options-to-background:discover': discover,
  };
}

/** A refusal found by background work, carried to the handler that reports it. */
class FlowFailure extends Error {
  readonly failure: Failure;
  constructor(found: Failure) {
    super(found.code);
    this.failure = found;
  }
}

/** The `kid` of an assertion that passed step 6 (so it decodes). */
function assertionKid(assertion: string): string | undefined {
  try {
    return decodeAssertion(assertion).header.kid;
  } catch {
    return undefined;
  }
}

/** Validates a raw message and runs its handler; malformed messages get `invalid_request`. */
export function dispatch(
  handlers: Handlers,
  raw: unknown,
  sender: SenderLike,
): Promise<ResultFor<MessageType>> {
  const message = parseMessage(raw);
  if (message === undefined) return Promise.resolve(failure('invalid_request'));
  const handler = handlers[message.type] as (
    m: Message,
    s: SenderLike,
  ) => Promise<ResultFor<MessageType>>;
  return handler(message, sender).catch((err: unknown) => toFailure(err));
}
