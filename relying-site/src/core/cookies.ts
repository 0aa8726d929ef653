// The site's two cookies. `__Host-` pins them to this origin: Secure, Path=/, no Domain.
export const BROWSER_COOKIE = '__Host-bsso_browser';
export const SESSION_COOKIE = '__Host-bsso_session';

/** Reads one cookie from a Cookie header; first occurrence wins. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      // Only our own token shape; anything else is treated as absent.
      return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : undefined;
    }
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
