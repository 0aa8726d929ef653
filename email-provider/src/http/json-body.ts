// Body reading for the JSON endpoints, in the order the contract checks: content type (415),
// then size (413, before and while reading), then JSON syntax (400, via the error handler).
import { BssoError, limits, mediaType } from '@bsso/protocol';
import express, { type NextFunction, type Request, type Response } from 'express';

function requireJsonType(req: Request, _res: Response, next: NextFunction): void {
  if (mediaType(req.headers['content-type']) !== 'application/json') {
    next(new BssoError('unsupported_media_type', 'The request must be application/json.'));
    return;
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limits.maxRequestBodyBytes) {
    next(new BssoError('payload_too_large'));
    return;
  }
  next();
}

export function jsonBody() {
  return [
    requireJsonType,
    express.json({ limit: limits.maxRequestBodyBytes, strict: true, type: () => true }),
  ];
}
