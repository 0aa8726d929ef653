// Reading url-encoded form posts: bounded size, only single string fields.
import { limits } from '@bsso/protocol';
import express, { type Request } from 'express';

export function formBody() {
  return express.urlencoded({
    extended: false,
    limit: limits.maxRequestBodyBytes,
    parameterLimit: 20,
    type: 'application/x-www-form-urlencoded',
  });
}

export function field(req: Request, name: string): string | undefined {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

export function queryString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}
