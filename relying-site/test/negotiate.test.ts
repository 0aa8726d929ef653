// The core reads Accept as Express's req.accepts(['html', 'json']) does, so moving the
// endpoint out of Express changed no answer's format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import express, { type Request } from 'express';
import fc from 'fast-check';
import { prefersJson } from '../src/core/negotiate.ts';

const expressPrefersJson = (accept: string | undefined): boolean => {
  const req = Object.setPrototypeOf(
    { headers: accept === undefined ? {} : { accept } },
    express.request,
  ) as Request;
  return req.accepts(['html', 'json']) === 'json';
};

const range = fc.tuple(
  fc.constantFrom(
    'text/html',
    'application/json',
    '*/*',
    'text/*',
    'application/*',
    'image/png',
    'application/json;charset=utf-8',
    'TEXT/HTML',
  ),
  fc.option(fc.constantFrom('0', '0.1', '0.5', '0.9', '1', 'x'), { nil: undefined }),
);
const header = fc
  .array(range, { maxLength: 5 })
  .map((ranges) =>
    ranges.map(([type, q]) => (q === undefined ? type : `${type};q=${q}`)).join(', '),
  );

test('prefersJson agrees with Express on common and generated Accept headers', () => {
  for (const accept of [
    undefined,
    '',
    'application/json',
    'text/html',
    '*/*',
    'application/json, text/plain, */*',
    'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'application/json;q=0.5, text/html;q=0.4',
  ]) {
    assert.equal(prefersJson(accept), expressPrefersJson(accept), String(accept));
  }
  fc.assert(
    fc.property(header, (accept) => prefersJson(accept) === expressPrefersJson(accept)),
    { numRuns: 500 },
  );
});
