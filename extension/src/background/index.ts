// Service worker entry: wires browser APIs into the handlers. Flows are in storage.session,
// preferences and caches in storage.local; while the worker lives it keeps both in memory
// too (flow.ts, local-cache.ts), so a warm sign-in waits for no storage round trip.
import { discoverProvider } from '@bsso/protocol';
import browser, { type Runtime } from 'webextension-polyfill';
import { BROKER_KEY, discoveryKey, readBroker, withBrokerFallback } from '../shared/broker.ts';
import { PREFERENCE_KEYS, readPreferences } from '../shared/storage.ts';
import { createChooser } from './chooser.ts';
import { createDiscoveryCache } from './discovery-cache.ts';
import { createFlowStore } from './flow.ts';
import { createHandlers, dispatch } from './handlers.ts';
import { createCachedArea } from './local-cache.ts';
import { createSignInPopup } from './popup.ts';

const CHOOSER_PAGE = 'src/chooser/index.html';
/** The manifest's host_permissions. */
const HOST_ACCESS = ['https://*/*'];

function start(): void {
  const now = () => Date.now();
  // storage.local through a memory cache that every write of the area, from any page of the
  // extension, keeps right; it dies with the worker.
  const local = createCachedArea(browser.storage.local);
  browser.storage.onChanged.addListener((changes, areaName) => {
    if (areaName === 'local') local.changed(changes);
  });
  // The worker wakes on a page's "available" message, before any click: read what a sign-in
  // will read (storage only, nothing leaves the browser, nothing is written).
  void local
    .get([...PREFERENCE_KEYS, BROKER_KEY])
    .then(() => readPreferences(local))
    .then((prefs) => local.get(prefs.emails.map(discoveryKey)))
    .catch(() => undefined);
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
