// The delivery body of an Express request. The core reads the stream itself (with its own
// cap); when the app put a body parser such as express.urlencoded() before BSSO (usual in
// Passport apps) the stream is already read, and the parsed fields are encoded again so the
// core sees the same form. The content type and the declared length are still checked from
// the headers first.
import { limits } from '@bsso/protocol';
import type { Request } from 'express';

export function bodyOf(req: Request): AsyncIterable<Uint8Array | string> {
  if (!req.readableEnded) return buffered(req) ?? req;
  return one(encodeParsed(req.body));
}

/**
 * A delivery is small and has usually arrived with its headers: when the whole body its
 * Content-Length announces is already buffered (and within the cap), hand it over in one
 * chunk instead of running the stream's async iterator (a few percent of a warm sign-in's CPU
 * time, bench/README.md section 2). Anything else is read from the stream as before.
 */
function buffered(req: Request): AsyncIterable<Uint8Array> | null {
  const declared = req.headers['content-length'];
  if (declared === undefined || req.readableFlowing === true) return null;
  const length = req.readableLength;
  if (length !== Number(declared) || length > limits.maxRequestBodyBytes) return null;
  const chunks: Buffer[] = [];
  for (let chunk = req.read() as Buffer | string | null; chunk !== null; chunk = req.read()) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return one(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
}

function one<T>(chunk: T): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      let done = false;
      return {
        async next() {
          if (done) return { done: true, value: undefined };
          done = true;
          return { done: false, value: chunk };
        },
      };
    },
  };
}

function encodeParsed(body: unknown): string {
  const form = new URLSearchParams();
  if (typeof body !== 'object' || body === null) return '';
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string') form.append(name, item);
    }
  }
  return form.toString();
}
