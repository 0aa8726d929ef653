// Keeps protocol-spec.md's examples and error table generated from the code, so they never drift.
// Run: node --conditions=bsso-source scripts/sync-spec.ts  (from protocol/, after make-vectors.ts)
// Each example is a ```json block preceded by `<!-- vector: NAME -->` (the vector's `decoded`)
// or `<!-- vector: NAME encoded -->` (its `encoded` form, as a JSON string). The error table
// sits between `<!-- errors:begin -->` and `<!-- errors:end -->`.
import { readFile, writeFile } from 'node:fs/promises';
import { errorCodes } from '../src/index.ts';
import { VECTORS_FILE, type VectorFile } from './make-vectors.ts';

export const SPEC_FILE = new URL('../../protocol-spec.md', import.meta.url);

const BLOCK = /<!-- vector: ([a-z0-9_]+)( encoded)? -->\n```json\n([\s\S]*?)```/g;
const TABLE = /<!-- errors:begin -->\n[\s\S]*?<!-- errors:end -->/;

export interface VectorBlock {
  name: string;
  part: 'decoded' | 'encoded';
  /** The block's text, without the fences. */
  text: string;
}

export function vectorBlocks(markdown: string): VectorBlock[] {
  return [...markdown.matchAll(BLOCK)].map((m) => ({
    name: m[1] ?? '',
    part: m[2] ? 'encoded' : 'decoded',
    text: m[3] ?? '',
  }));
}

/** The errors table as Markdown, one row per code of `errorCodes`, in its order. */
export function errorTable(): string {
  const rows = Object.entries(errorCodes).map(
    ([code, { status, description }]) => `| \`${code}\` | ${status} | ${description} |`,
  );
  return ['| Code | HTTP status | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Parses the rows of the errors table back into code -> status. */
export function parseErrorTable(markdown: string): Map<string, number> {
  const table = TABLE.exec(markdown)?.[0] ?? '';
  const rows = new Map<string, number>();
  for (const m of table.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)) {
    rows.set(m[1] ?? '', Number(m[2]));
  }
  return rows;
}

/**
 * The anchors of a Markdown document: GitHub-style slugs of its headings plus explicit
 * `<a id>` anchors: what code and docs may cite after `protocol-spec.md` and a hash sign.
 */
export function specAnchors(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    const text = (m[1] ?? '').replace(/`/g, '');
    found.add(
      text
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    );
  }
  for (const m of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) found.add(m[1] ?? '');
  return found;
}

/** The spec with every example block and the error table regenerated. */
export function renderSpec(markdown: string, file: VectorFile): string {
  const withBlocks = markdown.replace(BLOCK, (_all, name: string, encoded?: string) => {
    const vector = file.vectors[name];
    if (!vector) throw new Error(`protocol-spec.md names an unknown vector: ${name}`);
    const value = encoded ? vector.encoded : vector.decoded;
    if (value === undefined) throw new Error(`vector ${name} has no encoded form`);
    const tag = `<!-- vector: ${name}${encoded ? ' encoded' : ''} -->`;
    return `${tag}\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``;
  });
  return withBlocks.replace(TABLE, `<!-- errors:begin -->\n${errorTable()}\n<!-- errors:end -->`);
}

if (import.meta.main) {
  const file = JSON.parse(await readFile(VECTORS_FILE, 'utf8')) as VectorFile;
  const spec = await readFile(SPEC_FILE, 'utf8');
  await writeFile(SPEC_FILE, renderSpec(spec, file));
  console.log(`updated ${SPEC_FILE.pathname}`);
}
