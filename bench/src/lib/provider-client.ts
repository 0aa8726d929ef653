// Talking to a provider over loopback http as the browser would: sign in through the form
// (one scrypt), and ask for an association as a site would.
export const EXTENSION_ORIGIN = `chrome-extension://${'abcdefghijklmnop'.repeat(2)}`;
export const PROVIDER_SESSION_COOKIE = '__Host-bsso_provider';

function setCookie(res: Response, name: string): string {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    if (pair?.startsWith(`${name}=`)) return pair;
  }
  throw new Error(`no ${name} cookie (status ${res.status})`);
}

/** Signs in at `base` (http://127.0.0.1:port); returns the Cookie header of the session. */
export async function signIn(base: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${base}/signin`);
  const csrfCookie = setCookie(page, '__Host-bsso_csrf');
  const token = /name="csrf_token" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!token) throw new Error('no CSRF token on the sign-in page');
  const res = await fetch(`${base}/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: new URLSearchParams({ email, password, csrf_token: token }).toString(),
  });
  return setCookie(res, PROVIDER_SESSION_COOKIE);
}

export async function associate(base: string, site: string): Promise<string> {
  const res = await fetch(`${base}/bsso/association`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ site }),
  });
  const body = (await res.json()) as { handle?: string };
  if (!body.handle) throw new Error(`association failed: ${res.status} ${JSON.stringify(body)}`);
  return body.handle;
}
