// The site's two cookies. `__Host-` pins them to this origin: Secure, Path=/, no Domain.
export const BROWSER_COOKIE = '__Host-bsso_browser';
export const SESSION_COOKIE = '__Host-bsso_session';

// Only our own token shape; anything else is treated as absent.
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** Reads one cookie from a Cookie header; first occurrence wins. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  // One pass over the header, no array of its parts (read several times per delivery).
  for (let start = 0; start < header.length; ) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) {
      const value = header.slice(eq + 1, end).trim();
      return TOKEN.test(value) ? value : undefined;
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * The browser binding: SameSite=Strict, so a cross-site form POST (login CSRF) arrives
 * without it and its nonce cannot match.
 */
export function browserCookie(id: string): string {
  return `${BROWSER_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict`;
}

export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${Math.floor(maxAgeSeconds)}; Secure; HttpOnly; SameSite=Lax`;
}

export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`;
}
