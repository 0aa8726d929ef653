// Every reference in the repository resolves (protocol-spec.md#security-considerations,
// Threat coverage; protocol-spec.md#constants): anchors name headings of protocol-spec.md,
// documents exist in the repository, threat numbers are rows of the spec's threat table, the
// table's test files and names are in the code, and the Constants table is constants.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SPEC_FILE, specAnchors } from '../scripts/sync-spec.ts';
import * as constants from '../src/constants.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** Folders that hold no authored text: installed, built or measured output. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'results', '.git', '.data', '.tmp']);
const TEXT_FILE = /\.(ts|mts|js|mjs|cjs|md|html|css|json|yml|yaml|sh)$/;
/** Generated data, not prose: no references in them. */
const SKIPPED_FILES = new Set(['package-lock.json', 'vectors.json']);

interface TextFile {
  /** Path from the repository root, with forward slashes. */
  path: string;
  text: string;
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) await walk(full, out);
    } else if (
      entry.isFile() &&
      !SKIPPED_FILES.has(entry.name) &&
      (TEXT_FILE.test(entry.name) || relative(ROOT, dir) === '.ci')
    ) {
      out.push(full);
    }
  }
}

let spec: string;
let anchors: Set<string>;
let files: TextFile[];
let threatRows: ThreatRow[];

interface ThreatRow {
  threat: number;
  files: string[];
  names: string[];
}

/** The rows of the Threat coverage table: `| Property | N | files | names |`. */
function parseThreatTable(markdown: string): ThreatRow[] {
  const rows: ThreatRow[] = [];
  for (const m of markdown.matchAll(/^\| [^|]+ \| (\d+) \| ([^|]+) \| ([^|]+) \|$/gm)) {
    rows.push({
      threat: Number(m[1]),
      files: (m[2] ?? '').split('; ').map((f) => f.trim().replace(/^`|`$/g, '')),
      names: (m[3] ?? '').split('; ').map((n) => n.trim()),
    });
  }
  return rows;
}

/** Every line of every file with its 1-based number, for messages that point at the place. */
function* lines(): Generator<{ where: string; line: string; file: TextFile }> {
  for (const file of files) {
    const all = file.text.split('\n');
    for (let i = 0; i < all.length; i++) {
      yield { where: `${file.path}:${i + 1}`, line: all[i] ?? '', file };
    }
  }
}

/** The numbers a "threat N" / "threats N, M to K, L-P and Q" mention names. */
function threatNumbers(text: string): number[] {
  const out: number[] = [];
  const mention = /\bthreats? ((?:#?\d+(?:\s*(?:-|–|to)\s*#?\d+)?(?:,\s*|\s+and\s+)?)+)/gi;
  for (const m of text.matchAll(mention)) {
    for (const part of (m[1] ?? '').split(/,|\band\b/)) {
      const range = /#?(\d+)(?:\s*(?:-|–|to)\s*#?(\d+))?/.exec(part);
      if (!range) continue;
      const from = Number(range[1]);
      const to = range[2] === undefined ? from : Number(range[2]);
      for (let n = from; n <= to; n++) out.push(n);
    }
  }
  return out;
}

interface Title {
  /** The whole title; a template title's `${…}` parts match anything. */
  pattern: RegExp;
  /** The literal text before the first `${…}` (the whole title when there is none). */
  head: string;
}

/** Titles of `it`, `test` and `describe` calls in a test file. */
function testTitles(source: string): Title[] {
  const titles: Title[] = [];
  const call =
    /\b(?:it|test|describe)(?:\.(?:skip|only|todo))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (const m of source.matchAll(call)) {
    const raw = m[2] ?? '';
    const parts = (m[1] === '`' ? raw.split(/\$\{[^}]*\}/) : [raw]).map((p) =>
      p.replace(/\\(.)/g, '$1'),
    );
    titles.push({
      pattern: new RegExp(`^${parts.map(escapeRegExp).join('.+')}$`),
      head: parts[0] ?? '',
    });
  }
  return titles;
}

/** A table name matches a title exactly, or as a prefix when it ends with `…`. */
function nameMatches(name: string, titles: Title[]): boolean {
  if (!name.endsWith('…')) return titles.some((t) => t.pattern.test(name));
  const prefix = name.slice(0, -1).trimEnd();
  return titles.some(
    (t) =>
      t.head.startsWith(prefix) || (t.pattern.source.includes('.+') && prefix.startsWith(t.head)),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

before(async () => {
  spec = await readFile(SPEC_FILE, 'utf8');
  anchors = specAnchors(spec);
  threatRows = parseThreatTable(spec);
  const paths: string[] = [];
  await walk(ROOT, paths);
  files = await Promise.all(
    paths
      .filter((p) => p !== SELF)
      .map(async (p) => ({
        path: relative(ROOT, p).split('\\').join('/'),
        text: await readFile(p, 'utf8'),
      })),
  );
});

describe('references in the repository', () => {
  it('scans every workspace and the root documents', () => {
    const scanned = new Set(files.map((f) => f.path.split('/')[0]));
    for (const top of [
      'protocol',
      'email-provider',
      'relying-site',
      'extension',
      'e2e',
      'bench',
      'README.md',
      'SECURITY.md',
      'protocol-spec.md',
    ]) {
      assert.ok(scanned.has(top), `${top} is not scanned`);
    }
  });

  it('cites only sections that are headings of protocol-spec.md', () => {
    const missing: string[] = [];
    for (const { where, line } of lines()) {
      for (const m of line.matchAll(/protocol-spec\.md#([A-Za-z0-9_-]*)/g)) {
        if (!anchors.has(m[1] ?? '')) missing.push(`${where}: #${m[1]}`);
      }
    }
    assert.deepEqual(missing, [], 'anchors that are not headings of protocol-spec.md');
  });

  it('names no document that is not in the repository', () => {
    const missing: string[] = [];
    const outside = [
      /threats\.md/,
      /contract\.md/,
      /\(contract:/,
      /\b(?:the|a|our) brief\b|\bbrief (?:flow|step|item)/i,
      /\/work\//,
      /\.\.\/shared\/(?:design|notes)\b/,
    ];
    for (const { where, line, file } of lines()) {
      for (const pattern of outside) {
        if (pattern.test(line)) missing.push(`${where}: ${line.trim()}`);
      }
      // A Markdown document or a ../shared/ path must exist, from the file or from the root.
      for (const m of line.matchAll(/(?:[\w.-]+\/)*[\w.-]+\.md\b|\.\.\/shared\/[\w./-]+/g)) {
        const ref = m[0];
        const fromFile = resolve(ROOT, dirname(file.path), ref);
        const fromRoot = resolve(ROOT, ref);
        if (!existsSync(fromFile) && !existsSync(fromRoot)) missing.push(`${where}: ${ref}`);
      }
    }
    assert.deepEqual(missing, [], 'references to documents outside the repository');
  });

  it('mentions only threats of the spec table', () => {
    const known = new Set(threatRows.map((r) => r.threat));
    const unknown: string[] = [];
    for (const { where, line } of lines()) {
      for (const n of threatNumbers(line)) if (!known.has(n)) unknown.push(`${where}: threat ${n}`);
    }
    assert.deepEqual(unknown, [], 'threat numbers that are not rows of the threat table');
  });
});

describe('protocol-spec.md tables against the code', () => {
  it('has a threat coverage table', () => {
    assert.ok(threatRows.length >= 40, `only ${threatRows.length} rows found`);
    const numbers = threatRows.map((r) => r.threat);
    assert.equal(new Set(numbers).size, numbers.length, 'a threat has two rows');
  });

  it('names test files that exist and test names that are in them', async () => {
    const problems: string[] = [];
    for (const row of threatRows) {
      const sources: string[] = [];
      for (const path of row.files) {
        const full = join(ROOT, path);
        if (!existsSync(full)) problems.push(`threat ${row.threat}: no file ${path}`);
        else sources.push(await readFile(full, 'utf8'));
      }
      const titles = sources.flatMap(testTitles);
      for (const name of row.names) {
        if (!nameMatches(name, titles)) {
          problems.push(`threat ${row.threat}: no test named "${name}" in ${row.files.join(', ')}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('lists exactly the constants of protocol/src/constants.ts, with their values', () => {
    const section = /^## Constants\n([\s\S]*?)^## /m.exec(spec)?.[1] ?? '';
    const table = new Map<string, string>();
    for (const m of section.matchAll(/^\| `([A-Za-z_.]+)` \| `?([^|`]*?)`? \|/gm)) {
      table.set(m[1] ?? '', m[2] ?? '');
    }
    const code = new Map<string, string>();
    for (const [name, value] of Object.entries(constants)) {
      if (typeof value === 'object' && value !== null) {
        for (const [key, inner] of Object.entries(value)) code.set(`${name}.${key}`, String(inner));
      } else {
        code.set(name, String(value));
      }
    }
    assert.deepEqual(
      [...table].sort(([a], [b]) => a.localeCompare(b)),
      [...code].sort(([a], [b]) => a.localeCompare(b)),
    );
  });
});
