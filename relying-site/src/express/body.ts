// The delivery body of an Express request. The core reads the stream itself (with its own
// cap); when the app put a body parser such as express.urlencoded() before BSSO (usual in
// Passport apps) the stream is already read, and the parsed fields are encoded again so the
// core sees the same form. The content type and the declared length are still checked from
// the headers first.
import type { Request } from 'express';

export function bodyOf(req: Request): AsyncIterable<Uint8Array | string> {
  if (!req.readableEnded) return req;
  return (async function* () {
    yield encodeParsed(req.body);
  })();
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
