// The one place errors become answers: JSON {error, error_description} for API callers, a
// short generic HTML page for a browser. Neither ever echoes the assertion.
import { type ErrorCode, errorCodes, toErrorResponse } from '@bsso/protocol';
import type { Request, Response } from 'express';

export function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

export function sendError(req: Request, res: Response, err: unknown, forceJson = false): void {
  // The table's text only: a message may name a provider's host, address or status, which
  // would make the endpoint an oracle for what lies behind the site (threat 43).
  const { status, body } = toErrorResponse(err, { detail: false });
  res.status(status).set('Cache-Control', 'no-store');
  if (forceJson || wantsJson(req)) {
    res.json(body);
    return;
  }
  res.type('html').send(errorPage(body.error));
}

// Fixed text per code only: nothing from the request reaches the page.
function errorPage(code: ErrorCode): string {
  const text = errorCodes[code].description;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign-in failed</title></head>
<body><h1>Sign-in failed</h1><p>${text}</p><p>Error code: <code>${code}</code></p>
<p><a href="/">Back to the site</a></p></body></html>
`;
}
