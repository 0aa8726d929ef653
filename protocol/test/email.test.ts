import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limits, parseDomain, parseEmail } from '../src/index.ts';
import { throwsCode } from './expect.ts';

describe('parseEmail', () => {
  it('normalizes to lower case and splits local part and domain', () => {
    assert.deepEqual(parseEmail('Alice.Smith+tag@Mail.Example'), {
      address: 'alice.smith+tag@mail.example',
      localPart: 'alice.smith+tag',
      domain: 'mail.example',
    });
  });

  it('accepts A-label (punycode) domains and subdomains', () => {
    assert.equal(parseEmail('bob@xn--bcher-kva.example').domain, 'xn--bcher-kva.example');
    assert.equal(parseEmail('bob@eu.mail.example').domain, 'eu.mail.example');
  });

  const bad: [string, unknown][] = [
    ['not a string', 42],
    ['undefined', undefined],
    ['empty', ''],
    ['no @', 'alice.mail.example'],
    ['two @', 'a@b@c.example'],
    ['empty local part', '@mail.example'],
    ['empty domain', 'alice@'],
    ['single-label domain', 'alice@localhost'],
    ['CRLF injection', 'alice@mail.example\r\nBcc: x@y.example'],
    ['space', 'al ice@mail.example'],
    ['quoted local part', '"alice"@mail.example'],
    ['leading dot', '.alice@mail.example'],
    ['double dot', 'al..ice@mail.example'],
    ['trailing dot in local part', 'alice.@mail.example'],
    ['IP literal', 'alice@[127.0.0.1]'],
    ['dotted IPv4 domain', 'alice@127.0.0.1'],
    ['non-ASCII look-alike domain', 'alice@mаil.example'],
    ['non-ASCII local part', 'alíce@mail.example'],
    ['label starting with a hyphen', 'alice@-mail.example'],
    ['label ending with a hyphen', 'alice@mail-.example'],
    ['empty label', 'alice@mail..example'],
    ['local part over 64 characters', `${'a'.repeat(65)}@mail.example`],
    ['address over the length limit', `a@${'b'.repeat(limits.maxEmailLength)}.example`],
  ];
  for (const [name, input] of bad) {
    it(`refuses ${name}`, () => {
      throwsCode(() => parseEmail(input), 'invalid_email');
    });
  }
});

describe('parseDomain', () => {
  it('lower-cases a valid domain', () => {
    assert.equal(parseDomain('Mail.Example'), 'mail.example');
  });

  it('refuses a label longer than 63 characters', () => {
    throwsCode(() => parseDomain(`${'a'.repeat(64)}.example`), 'invalid_email');
  });

  it('refuses a non-string', () => {
    throwsCode(() => parseDomain(null), 'invalid_email');
  });
});
