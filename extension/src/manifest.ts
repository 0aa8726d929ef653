// The extension manifest (MV3). One source for Chrome and Firefox; the mode picks the
// background form each browser wants.
import { defineManifest } from '@crxjs/vite-plugin';
import pkg from '../package.json' with { type: 'json' };

export type TargetBrowser = 'chrome' | 'firefox';

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
    options_ui: { page: 'src/options/index.html', open_in_tab: true },
    ...(target === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: { id: 'bsso@bsso.dev', strict_min_version: '128.0' },
          },
        }
      : {}),
  });
}
