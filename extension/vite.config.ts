// Builds the unpacked extension: `vite build` -> dist/chrome, `vite build --mode firefox`
// -> dist/firefox.
import { crx } from '@crxjs/vite-plugin';
import { defaultClientConditions, defineConfig } from 'vite';
import { createManifest } from './src/manifest.ts';

export default defineConfig(({ mode }) => {
  const target = mode === 'firefox' ? 'firefox' : 'chrome';
  return {
    // '@bsso/protocol' is consumed as TypeScript source.
    resolve: { conditions: ['bsso-source', ...defaultClientConditions, 'import', 'default'] },
    plugins: [
      crx({
        manifest: createManifest(target),
        browser: target,
        // One self-contained file: no loader, so no web_accessible_resources at all.
        contentScripts: { standaloneFiles: ['src/content/index.ts'] },
      }),
    ],
    build: {
      outDir: `dist/${target}`,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      rolldownOptions: { input: { chooser: 'src/chooser/index.html' } },
    },
  };
});
