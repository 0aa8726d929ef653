// While the worker waits for the user (chooser, sign-in popup), an extension API call every
// 20 s keeps Chrome from stopping it after 30 s without events.
export function keepAlive(ping: () => Promise<unknown>, everyMs = 20_000): () => void {
  const timer = setInterval(() => void ping().catch(() => undefined), everyMs);
  return () => clearInterval(timer);
}
