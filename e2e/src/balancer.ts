// A tiny round-robin TCP balancer: one name (say mail.test) in front of several instances.
// TLS passes through untouched; a backend that refuses the connection is skipped.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface Balancer {
  port: number;
  /** Backend ports currently in rotation (a draining instance is taken out). */
  backends: Set<number>;
  close(): Promise<void>;
}

export async function startBalancer(backends: Iterable<number>): Promise<Balancer> {
  const pool = new Set(backends);
  const sockets = new Set<Socket>();
  let next = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    const tryBackend = (attempt: number) => {
      const ports = [...pool];
      if (ports.length === 0 || attempt >= ports.length) {
        client.destroy();
        return;
      }
      const port = ports[next++ % ports.length] as number;
      const upstream = connect(port, '127.0.0.1');
      upstream.once('error', () => {
        if (!upstream.readyState.startsWith('open')) tryBackend(attempt + 1);
      });
      upstream.once('connect', () => {
        track(upstream);
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    backends: pool,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
