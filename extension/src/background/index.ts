// Service worker entry: wires browser APIs into the handlers. No state lives here; flows are
// in storage.session, preferences and caches in storage.local.
import { discoverProvider } from '@bsso/protocol';
import browser, { type Runtime } from 'webextension-polyfill';
import { readBroker, withBrokerFallback } from '../shared/broker.ts';
import { createChooser } from './chooser.ts';
import { createDiscoveryCache } from './discovery-cache.ts';
import { createFlowStore } from './flow.ts';
import { createHandlers, dispatch } from './handlers.ts';
import { createSignInPopup } from './popup.ts';

const CHOOSER_PAGE = 'src/chooser/index.html';
/** The manifest's host_permissions. */
const HOST_ACCESS = ['https://*/*'];

function start(): void {
  const now = () => Date.now();
  const local = browser.storage.local;
  const session = browser.storage.session;
  const flows = createFlowStore(session, now);
  const chooserUrl = browser.runtime.getURL(CHOOSER_PAGE);
  const handlers = createHandlers({
    local,
    session,
    flows,
    discovery: createDiscoveryCache({
      area: local,
      now,
      currentBroker: () => readBroker(local),
      // A domain that names no provider goes to the broker of the options, if one is set.
      discover: withBrokerFallback({
        discover: (email) => discoverProvider(email, { timeoutMs: 15_000 }),
        broker: () => readBroker(local),
      }),
    }),
    chooser: createChooser({
      windows: browser.windows,
      runtime: browser.runtime,
      session,
      pageUrl: chooserUrl,
      now,
    }),
    signIn: createSignInPopup({
      windows: browser.windows,
      tabs: browser.tabs,
      runtime: browser.runtime,
    }),
    openOptions: () => browser.runtime.openOptionsPage(),
    markAvailable: async (tabId) => {
      // Tab-specific values: both browsers drop them when the tab loads another page.
      await browser.action.setBadgeText({ tabId, text: browser.i18n.getMessage('action_badge') });
      await browser.action.setTitle({
        tabId,
        title: browser.i18n.getMessage('action_title_available'),
      });
    },
    fetch: (input, init) => fetch(input, init),
    now,
    extensionBase: browser.runtime.getURL(''),
    chooserUrl,
  });
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) =>
    dispatch(handlers, message, sender),
  );
  // Firefox may install without host access (MV3 origin controls): then the options page,
  // which asks for it, is the first thing the user sees. Chrome grants it at install.
  browser.runtime.onInstalled.addListener(({ reason }) => {
    if (reason !== 'install') return;
    void browser.permissions
      .contains({ origins: HOST_ACCESS })
      .then((granted) => (granted ? undefined : browser.runtime.openOptionsPage()))
      .catch(() => undefined);
  });
  // The toolbar button opens the options page (addresses, remembered choices).
  browser.action.onClicked.addListener(() => void browser.runtime.openOptionsPage());
  // A closed tab's flow can never finish.
  browser.tabs.onRemoved.addListener((tabId) => void flows.clear(tabId));
}

start();
