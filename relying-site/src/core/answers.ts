// What the site sends, as plain data: the core decides status, headers, cookies and body;
// an adapter (Express, Fastify, the web handler, node:http) only writes it out.
// Errors: the one place they become answers, JSON {error, error_description} for API callers
// or a short generic HTML page for a browser; neither ever echoes the assertion.
import { type ErrorCode, errorCodes, toErrorResponse } from '@bsso/protocol';

export interface SiteAnswer {
  status: number;
  /** Header names in lower case; Set-Cookie values are in `setCookies`. */
  headers: Record<string, string>;
  /** Each a full Set-Cookie value. */
  setCookies: string[];
  /** '' for a redirect. */
  body: string;
}

export function jsonAnswer(status: number, value: unknown, setCookies: string[] = []): SiteAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    setCookies,
    body: JSON.stringify(value),
  };
}

/** 303 See Other to a same-origin path (already made safe by the caller). */
export function redirectAnswer(location: string, setCookies: string[] = []): SiteAnswer {
  return { status: 303, headers: { location, 'cache-control': 'no-store' }, setCookies, body: '' };
}

/**
 * An error as an answer. The table's text only: a message may name a provider's host,
 * address or status, which would make the endpoint an oracle for what lies behind the site
 * (threat 43).
 */
export function errorAnswer(err: unknown, json: boolean): SiteAnswer {
  const { status, body } = toErrorResponse(err, { detail: false });
  if (json) return jsonAnswer(status, body);
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    setCookies: [],
    body: errorPage(body.error),
  };
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
