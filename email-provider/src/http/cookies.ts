// Minimal cookie reading and writing for the provider's own cookies.
import type { Request, Response } from 'express';

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  sameSite: 'Lax' | 'Strict';
  /** Seconds; omitted makes a browser-session cookie. */
  maxAge?: number;
}

/** Sets a `__Host-` style cookie: Secure, HttpOnly, Path=/, no Domain. */
export function setHostCookie(res: Response, name: string, value: string, o: CookieOptions) {
  const parts = [`${name}=${value}`, 'Path=/', 'Secure', 'HttpOnly', `SameSite=${o.sameSite}`];
  if (o.maxAge !== undefined) parts.push(`Max-Age=${o.maxAge}`);
  res.append('Set-Cookie', parts.join('; '));
}

export function clearHostCookie(res: Response, name: string) {
  res.append('Set-Cookie', `${name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`);
}
