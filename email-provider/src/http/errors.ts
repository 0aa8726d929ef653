// The one error handler (last middleware): typed errors become {error, error_description},
// body-parser failures become 4xx, anything else a generic server_error without details.
import { BssoError, toErrorResponse } from '@bsso/protocol';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log.ts';
import { html, sendPage } from '../pages/html.ts';

interface HttpLikeError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
}

/** Maps body-parser and other HTTP errors with a 4xx status to protocol errors. */
function normalize(err: unknown): unknown {
  if (err instanceof BssoError || typeof err !== 'object' || err === null) return err;
  const e = err as HttpLikeError;
  if (e.type === 'entity.too.large') return new BssoError('payload_too_large');
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
    return new BssoError('unsupported_media_type', 'The request encoding is not supported.');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new BssoError('invalid_request', 'The request body is malformed.');
  }
  return err;
}

/** Requests whose errors are answered as an HTML page rather than JSON. */
function wantsHtml(req: Request): boolean {
  return !req.path.startsWith('/bsso/') && !req.path.startsWith('/.well-known/');
}

export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const mapped = normalize(err);
    const { status, body } = toErrorResponse(mapped);
    // For the metrics (direct verification results by code); a fixed code, never a message.
    res.locals.errorCode = body.error;
    if (status >= 500) {
      logger.error('request_failed', {
        method: req.method,
        path: req.path,
        error: err instanceof Error ? err.name : typeof err,
      });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (wantsHtml(req) && res.locals.nonce !== undefined) {
      sendPage(
        res,
        status,
        'Error',
        html`<h1>Something went wrong</h1>
<p role="alert">${body.error_description}</p>`,
      );
      return;
    }
    res.status(status).json(body);
  };
}

export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new BssoError('not_found'));
}
