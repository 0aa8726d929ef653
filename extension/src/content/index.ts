// Content script (top frame): finds the page's BSSO link and button, runs the flow on a
// trusted click. Until the user has agreed in the extension's own window, the page sees no
// change at all (protocol-spec.md#page-markup). Costs one lookup on pages without BSSO (plus
// a coalesced observer until found); the extension API is loaded only once the markup is
// there (see api.ts).
import {
  PAGE_HANDLE_SET_ATTR,
  PAGE_LINK_REL,
  PAGE_NONCE_ATTR,
  PAGE_NONCE_EXPIRES_ATTR,
  SIGN_IN_BUTTON_ID,
} from '@bsso/protocol';
import type {
  Failure,
  Message,
  MessageType,
  PageChallengeAttributes,
  ResultFor,
} from '../shared/messages.ts';
import { clickNavigates, endpointForPage, QUIET_FAILURES } from '../shared/rules.ts';
import { type BrowserApi, loadBrowserApi } from './api.ts';
import { deliverAssertion } from './deliver.ts';
import { failureText, showNotice } from './notice.ts';

const LINK_SELECTOR = `link[rel~="${PAGE_LINK_REL}"]`;
const CHALLENGE_TIMEOUT_MS = 15_000;

function send<T extends MessageType>(browser: BrowserApi, message: Extract<Message, { type: T }>) {
  return browser.runtime.sendMessage(message) as Promise<ResultFor<T>>;
}

class FlowError extends Error {
  readonly failure: Failure;
  constructor(failure: Failure) {
    super(failure.code);
    this.failure = failure;
  }
}

/**
 * Step 4 of protocol-spec.md#extension-processing: GETs the challenge from the page context
 * (first-party, the site's cookies included).
 */
async function fetchChallenge(endpoint: string, url: string): Promise<unknown> {
  // Only ever the endpoint's own origin: the site's cookies must not go anywhere else.
  if (new URL(url).origin !== new URL(endpoint).origin) throw new Error('challenge origin');
  const response = await fetch(url, {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    redirect: 'error',
    cache: 'no-store',
    signal: AbortSignal.timeout(CHALLENGE_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error('challenge status');
  return response.json();
}

/**
 * The page challenge of the endpoint link, as written (protocol-spec.md#page-challenge): read
 * at the click, checked by the background. Its age counts from the start of the page's load.
 */
function pageChallenge(link: HTMLLinkElement): PageChallengeAttributes | undefined {
  const nonce = link.getAttribute(PAGE_NONCE_ATTR);
  if (nonce === null) return undefined;
  return {
    nonce,
    expiresIn: link.getAttribute(PAGE_NONCE_EXPIRES_ATTR),
    handleSet: link.getAttribute(PAGE_HANDLE_SET_ATTR),
    ageMs: Math.max(0, Date.now() - performance.timeOrigin),
  };
}

async function runFlow(browser: BrowserApi, button: Element): Promise<void> {
  // Step 1 (protocol-spec.md#extension-processing): the first link of the top frame names a
  // same-origin https endpoint; otherwise no network call at all.
  const link = document.querySelector<HTMLLinkElement>(LINK_SELECTOR);
  if (!link) throw new FlowError({ ok: false, code: 'invalid_request' });
  const page = endpointForPage(link.href, location.href);
  if (!page.ok) throw new FlowError(page);
  const endpoint = page.endpoint;
  // Steps 2 and 3 are the background's: it asks the user first (chooser or confirmation)
  // where needed, then discovers the provider; until it answers, nothing in the page changes.
  const fromPage = pageChallenge(link);
  const begun = await send(
    browser,
    fromPage
      ? { type: 'content-to-background:begin', endpoint, page: fromPage }
      : { type: 'content-to-background:begin', endpoint },
  );
  if (!begun.ok) throw new FlowError(begun);
  if ('assertion' in begun) {
    // The page's own challenge was usable: steps 4 to 6 are done, step 7 now.
    deliverAssertion(endpoint, begun.assertion, `${location.pathname}${location.search}`);
    return;
  }
  button.setAttribute('aria-busy', 'true');
  let challenge: unknown;
  try {
    challenge = await fetchChallenge(endpoint, begun.challengeUrl);
  } catch {
    throw new FlowError({ ok: false, code: 'challenge_failed' });
  }
  // Steps 5 and 6 are the background's: the assertion request and the assertion's check.
  const asserted = await send(browser, {
    type: 'content-to-background:assert',
    endpoint,
    challenge,
  });
  if (!asserted.ok) throw new FlowError(asserted);
  // Step 7: delivery to this tab's endpoint.
  deliverAssertion(endpoint, asserted.assertion, `${location.pathname}${location.search}`);
}

/**
 * One sign-in attempt. A failure after the user agreed is shown in the page (never naming the
 * address) and frees the button again; one before it leaves the page as it was.
 */
async function signIn(button: Element): Promise<void> {
  const browser = await loadBrowserApi();
  try {
    await runFlow(browser, button);
  } catch (err) {
    const code = err instanceof FlowError ? err.failure.code : 'server_error';
    if (!QUIET_FAILURES.has(code)) showNotice(browser, failureText(browser, code));
    if (button.hasAttribute('aria-busy')) button.removeAttribute('aria-busy');
  }
}

function watch(): void {
  let running = false;
  const onClick = (event: MouseEvent) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target?.closest(`#${SIGN_IN_BUTTON_ID}`);
    // Step 1: a trusted click on the sign-in button; synthetic events are ignored.
    if (!target || !button || !event.isTrusted) return;
    // Only a click that would leave the page is cancelled: a page can read defaultPrevented.
    if (clickNavigates(target)) event.preventDefault();
    if (running) return;
    running = true;
    // Only a failure to load the API itself lands here: nothing to show a notice with.
    signIn(button)
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  };
  // Delegated on the document so a re-rendered button keeps working.
  document.addEventListener('click', onClick, true);
}

/** Tells the background this page offers BSSO (toolbar badge); only for a usable endpoint. */
function announce(): void {
  const link = document.querySelector<HTMLLinkElement>(LINK_SELECTOR);
  const page = link ? endpointForPage(link.href, location.href) : undefined;
  if (!page?.ok) return;
  const endpoint = page.endpoint;
  void loadBrowserApi()
    .then((browser) => send(browser, { type: 'content-to-background:available', endpoint }))
    .catch(() => undefined);
}

function found(): boolean {
  return (
    document.getElementById(SIGN_IN_BUTTON_ID) !== null && !!document.querySelector(LINK_SELECTOR)
  );
}

function main(): void {
  if (window.top !== window) return;
  if (found()) {
    watch();
    announce();
    return;
  }
  // Pages that add the markup later: check at most every 50 ms, stop once found.
  let scheduled = false;
  const observer = new MutationObserver(() => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      if (!found()) return;
      observer.disconnect();
      watch();
      announce();
    }, 50);
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
}

main();
