// HTML output: a tagged template that escapes every interpolated value unless it is already
// SafeHtml, and the page layout every page shares.
import type { Response } from 'express';

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem;
         line-height: 1.5; color: #1a1a1a; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input[type=email], input[type=password] { width: 100%; padding: .5rem; font-size: 1rem;
         box-sizing: border-box; }
  button { margin-top: 1.25rem; padding: .5rem 1.25rem; font-size: 1rem; }
  .error { color: #a00000; border: 1px solid #a00000; padding: .5rem; margin: 1rem 0; }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .25rem; }
`;

/** Sends a complete page; `res.locals.nonce` comes from the HTML security headers. */
export function sendPage(res: Response, status: number, title: string, body: SafeHtml): void {
  const nonce = String(res.locals.nonce ?? '');
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style nonce="${nonce}">${new SafeHtml(STYLE)}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
  res.status(status).type('html').send(page.value);
}
