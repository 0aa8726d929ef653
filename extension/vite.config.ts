// Builds the unpacked extension: `vite build` -> dist/chrome, `vite build --mode firefox`
// -> dist/firefox.
import { crx } from '@crxjs/vite-plugin';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { createManifest } from './src/manifest.ts';

/**
 * zod probes `new Function('')` to decide whether it may compile validators. Extension pages
 * forbid eval, so the probe can only fail (and trips store linters' DANGEROUS_EVAL): answer
 * "no" without probing. Fails the build if zod changes shape, so the patch is never silently
 * lost.
 */
function noEvalProbe(): Plugin {
  const probe = /const F = Function;\s*new F\(""\);\s*return true;/;
  return {
    name: 'bsso-no-eval-probe',
    transform(code, id) {
      if (!/[\\/]zod[\\/]v4[\\/]core[\\/]util\.js$/.test(id)) return null;
      if (!probe.test(code)) throw new Error('zod eval probe not found: update noEvalProbe');
      return { code: code.replace(probe, 'return false;'), map: null };
    },
  };
}

export default defineConfig(({ mode }) => {
  const target = mode === 'firefox' ? 'firefox' : 'chrome';
  return {
    // '@bsso/protocol' is consumed as TypeScript source.
    resolve: { conditions: ['bsso-source', ...defaultClientConditions, 'import', 'default'] },
    plugins: [
      noEvalProbe(),
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
