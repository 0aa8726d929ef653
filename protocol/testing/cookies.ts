// A cookie jar for test clients: names and values only, like a browser keeps them (the
// attributes are what tests assert, on the Set-Cookie lines keep() returns).

export interface CookieJarOptions {
  /** Also forget a cookie set to an empty value; default false (only Max-Age=0 does). */
  dropEmpty?: boolean;
}

export class CookieJar {
  readonly cookies = new Map<string, string>();
  readonly #dropEmpty: boolean;

  constructor(options: CookieJarOptions = {}) {
    this.#dropEmpty = options.dropEmpty ?? false;
  }

  /** The Cookie request header for every kept cookie. */
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Keeps the response's cookies; returns its Set-Cookie lines. */
  keep(res: Response): string[] {
    const lines = res.headers.getSetCookie();
    for (const line of lines) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(line) || (this.#dropEmpty && value === '')) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return lines;
  }
}
