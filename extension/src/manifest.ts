// The extension manifest (MV3). One source for Chrome and Firefox; the mode picks the
// background form each browser wants.
import { defineManifest } from '@crxjs/vite-plugin';
import pkg from '../package.json' with { type: 'json' };

type TargetBrowser = 'chrome' | 'firefox';

const geckoSettings = {
  gecko: {
    id: 'bsso@bsso.dev',
    strict_min_version: '140.0',
    // The address goes to the user's own provider, and a signed statement of it to the
    // sites the user signs in to: that is the extension's whole purpose.
    data_collection_permissions: {
      required: ['personallyIdentifyingInfo', 'authenticationInfo'] as (
        | 'personallyIdentifyingInfo'
        | 'authenticationInfo'
      )[],
    },
  },
  // Firefox for Android reads data_collection_permissions from 142 on. (A variable, not a
  // literal in defineManifest: the plugin's type does not know gecko_android yet.)
  gecko_android: { strict_min_version: '142.0' },
};

export function createManifest(target: TargetBrowser) {
  return defineManifest({
    manifest_version: 3,
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    version: pkg.version,
    default_locale: 'en',
    // storage: preferences, caches and per-tab flow state. No 'tabs': host permissions
    // already reveal the sign-in popup's URL to tabs.onUpdated.
    permissions: ['storage'],
    // Any https host: WebFinger runs on whatever domain the user's address has, and the
    // provider it names (configuration, assertion endpoint, sign-in popup) can be anywhere.
    // The content script must also run on every https page to find a site's BSSO markup.
    host_permissions: ['https://*/*'],
    background:
      target === 'firefox'
        ? { scripts: ['src/background/index.ts'], type: 'module' }
        : { service_worker: 'src/background/index.ts', type: 'module' },
    content_scripts: [
      {
        matches: ['https://*/*', 'http://localhost/*', 'http://*.localhost/*'],
        js: ['src/content/index.ts'],
        run_at: 'document_idle',
        all_frames: false,
      },
    ],
    // No popup: a click opens the options page; the badge says whether the page offers BSSO.
    action: { default_title: '__MSG_extName__' },
    options_ui: { page: 'src/options/index.html', open_in_tab: true },
    ...(target === 'firefox' ? { browser_specific_settings: geckoSettings } : {}),
  });
}
