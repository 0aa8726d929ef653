// protocol-spec.md stays in step with the code: its examples are the vectors, its error table
// is errorCodes, and every anchor the code cites exists.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { VECTORS_FILE, type VectorFile } from '../scripts/make-vectors.ts';
import {
  parseErrorTable,
  renderSpec,
  SPEC_FILE,
  specAnchors,
  vectorBlocks,
} from '../scripts/sync-spec.ts';
import { errorCodes } from '../src/index.ts';

let spec: string;
let file: VectorFile;

before(async () => {
  spec = await readFile(SPEC_FILE, 'utf8');
  file = JSON.parse(await readFile(VECTORS_FILE, 'utf8')) as VectorFile;
});

const anchors = specAnchors;

describe('protocol-spec.md', () => {
  it('shows each example block exactly as its vector', () => {
    const blocks = vectorBlocks(spec);
    assert.ok(blocks.length > 0);
    for (const block of blocks) {
      const vector = file.vectors[block.name];
      assert.ok(vector, `unknown vector ${block.name}`);
      const expected = block.part === 'encoded' ? vector.encoded : vector.decoded;
      assert.notEqual(expected, undefined, `${block.name} has no ${block.part} form`);
      assert.deepEqual(JSON.parse(block.text), expected, `${block.name} (${block.part})`);
    }
  });

  it('shows every vector, and the encoded form of every vector that has one', () => {
    const shown = new Set(vectorBlocks(spec).map((b) => `${b.name}/${b.part}`));
    for (const [name, vector] of Object.entries(file.vectors)) {
      assert.ok(shown.has(`${name}/decoded`), `${name} is not in the spec`);
      if (vector.encoded !== undefined) {
        assert.ok(shown.has(`${name}/encoded`), `${name} encoded is not in the spec`);
      }
    }
  });

  it('lists exactly the error codes and statuses of errorCodes', () => {
    const table = parseErrorTable(spec);
    const expected = new Map(Object.entries(errorCodes).map(([c, { status }]) => [c, status]));
    assert.deepEqual(table, expected);
  });

  it('is exactly what scripts/sync-spec.ts renders (run it after changing vectors or errors)', () => {
    assert.equal(renderSpec(spec, file), spec);
  });

  it('uses RFC 2119 language with the BCP 14 boilerplate and states its version', () => {
    assert.match(
      spec,
      /interpreted as described in BCP 14 \[RFC 2119\] \[RFC 8174\] when, and only when/,
    );
    assert.match(spec, /^Protocol version 1\.$/m);
    assert.ok(anchors(spec).has('protocol-version-and-changes'));
  });

  it('has every section the code cites', async () => {
    const required = [
      'constants',
      'versioning',
      'page-markup',
      'email-addresses',
      'url-rules',
      'discovery',
      'provider-configuration',
      'challenge',
      'assertion-request',
      'assertion',
      'association',
      'direct-verification',
      'invalidation',
      'transport',
      'errors',
      'error-object',
      'delivery',
      'site-processing',
      'site-verification',
      'security-considerations',
      'privacy-considerations',
    ];
    const cited = new Set(required);
    const src = new URL('../src/', import.meta.url);
    for (const name of await readdir(src)) {
      const text = await readFile(new URL(name, src), 'utf8');
      for (const m of text.matchAll(/protocol-spec\.md#([a-z0-9-]+)/g)) cited.add(m[1] ?? '');
    }
    const present = anchors(spec);
    for (const anchor of cited) assert.ok(present.has(anchor), `#${anchor} is missing`);
  });

  it('links only to sections that exist', () => {
    const present = anchors(spec);
    for (const m of spec.matchAll(/\]\(#([a-z0-9-]+)\)/g)) {
      assert.ok(present.has(m[1] ?? ''), `link to missing #${m[1]}`);
    }
  });
});
