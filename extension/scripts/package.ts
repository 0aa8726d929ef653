// `npm run package`: checks each build's manifest and zips it for store upload:
// dist/bsso-chrome.zip and dist/bsso-firefox.zip (the `zip` command line, Debian package zip).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dist = resolve(import.meta.dirname, '../dist');

for (const target of ['chrome', 'firefox']) {
  const dir = join(dist, target);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} missing: run "npm run build"`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  // Pages could probe for web-accessible resources to fingerprint BSSO users: allow none.
  if ('web_accessible_resources' in manifest) {
    throw new Error(`${target}: manifest has web_accessible_resources`);
  }
  const zip = join(dist, `bsso-${target}.zip`);
  rmSync(zip, { force: true });
  // -X: no extra file attributes; -r from inside the build so manifest.json is at the root.
  execFileSync('zip', ['-q', '-r', '-X', zip, '.'], { cwd: dir, stdio: 'inherit' });
  console.log(`${zip}`);
}
