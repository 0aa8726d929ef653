// A CONNECT proxy that sends each test name to its loopback port: how Firefox (which has no
// host-to-port mapping like Chromium's --host-resolver-rules) reaches https://mail.test and
// https://site.test on servers listening on free ports. Any other destination is refused, so
// the browser under test cannot reach the outside world either.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

export interface NameProxy {
  port: number;
  /** Destinations asked for, in order ("name:port"), refused ones included. */
  readonly requested: string[];
  close(): Promise<void>;
}

export async function startNameProxy(
  sites: readonly { name: string; port: number }[],
): Promise<NameProxy> {
  const ports = new Map(sites.map((s) => [`${s.name}:443`, s.port]));
  const requested: string[] = [];
  const server: Server = createServer((_req, res) => {
    // Plain-http proxying is not offered: every test name is https.
    res.writeHead(502, { 'content-type': 'text/plain' }).end('https only');
  });
  server.on('connect', (req, client, head) => {
    const target = req.url ?? '';
    requested.push(target);
    const port = ports.get(target);
    if (port === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const drop = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    requested,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
