// Reads the shipped systemd unit (docs/bsso-provider.service) the way systemd does for the
// parts the tests need: sections of Key=Value lines, comments and blank lines skipped.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const UNIT_FILE = fileURLToPath(new URL('../docs/bsso-provider.service', import.meta.url));
export const NGINX_EXAMPLE = fileURLToPath(
  new URL('../docs/nginx-bsso-provider.conf', import.meta.url),
);

export type Unit = Map<string, [string, string][]>;

export function readUnit(path = UNIT_FILE): Unit {
  const unit: Unit = new Map();
  let section: [string, string][] | undefined;
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header?.[1]) {
      section = [];
      unit.set(header[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq <= 0) throw new Error(`not a unit line: ${line}`);
    section.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return unit;
}

/** Every value of `key` in `section`, in order. */
export function values(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The unit's Environment= assignments as an object. */
export function unitEnvironment(unit: Unit): Record<string, string> {
  const env: Record<string, string> = {};
  for (const assignment of values(unit, 'Service', 'Environment')) {
    const eq = assignment.indexOf('=');
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return env;
}
