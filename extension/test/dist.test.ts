// The built manifests (after `npm run build`): what the stores and the threat model ask of them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { skipUnlessCi } from '@bsso/protocol/testing';

const dist = resolve(import.meta.dirname, '../dist');

for (const target of ['chrome', 'firefox'] as const) {
  const path = join(dist, target, 'manifest.json');
  // Skipped before `npm run build`; under CI a missing build fails instead.
  const skip = skipUnlessCi(!existsSync(path) && `${path} is not built`);
  test(`${target} build manifest`, { skip }, () => {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    // Pages could probe web-accessible files to learn that a visitor uses BSSO.
    assert.equal('web_accessible_resources' in manifest, false);
    assert.deepEqual(manifest.permissions, ['storage']);
    assert.deepEqual(manifest.host_permissions, ['https://*/*']);
    assert.ok(manifest.action, 'a toolbar action (badge on BSSO pages)');
    const background = manifest.background as Record<string, unknown>;
    if (target === 'firefox') {
      assert.ok(Array.isArray(background.scripts));
      const gecko = (manifest.browser_specific_settings as { gecko: Record<string, unknown> })
        .gecko;
      assert.equal(gecko.id, 'bsso@bsso.dev');
      assert.ok(gecko.data_collection_permissions);
    } else {
      assert.equal(typeof background.service_worker, 'string');
    }
  });
}
