// A fault switch in front of a real server (threats 30, 32, 33): per path, answer slowly,
// with garbage, hugely, drop by drop, or not at all. Unswitched paths reach the real handler.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export type Fault =
  | 'hang' // never answers
  | 'garbage' // 200 text/html
  | 'not-json' // 200 application/json that does not parse
  | 'huge' // 200 application/json streamed without end (no Content-Length)
  | 'huge-declared' // Content-Length of 10 MB
  | 'drip' // one byte every 20 ms, forever
  | 'down' // the connection is dropped before any answer
  | 'error500'; // 500 with a JSON error object

export class FaultSwitch {
  readonly faults = new Map<string, Fault>();
  /** Paths answered with a fault, one entry per request. */
  readonly hits: string[] = [];
  /** Faulted answers whose connection is still open (the client has not given up yet). */
  readonly open = new Set<ServerResponse>();

  set(path: string, fault: Fault): void {
    this.faults.set(path, fault);
  }

  clear(): void {
    this.faults.clear();
  }

  count(path: string): number {
    return this.hits.filter((p) => p === path).length;
  }

  /** Resolves once every faulted connection is closed (the client cut it off). */
  async drained(timeoutMs = 10_000): Promise<void> {
    const pending = [...this.open].map(
      (res) => new Promise<void>((resolve) => res.once('close', () => resolve())),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('faulted sockets still open')), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(pending), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  wrap(handler: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      const fault = this.faults.get(path);
      if (!fault) {
        handler(req, res);
        return;
      }
      this.hits.push(path);
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
      req.resume(); // read and drop the request body
      misbehave(fault, req, res);
    };
  }
}

function misbehave(fault: Fault, req: IncomingMessage, res: ServerResponse): void {
  const json = { 'content-type': 'application/json' };
  switch (fault) {
    case 'hang':
      return;
    case 'garbage':
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>oops</body></html>');
      return;
    case 'not-json':
      res.writeHead(200, json).end('{"valid": tru');
      return;
    case 'huge': {
      res.writeHead(200, json);
      res.write('{"pad":"');
      const chunk = 'x'.repeat(16 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    case 'huge-declared':
      res.writeHead(200, { ...json, 'content-length': String(10 * 1024 * 1024) });
      res.write('{"pad":"');
      return;
    case 'drip': {
      res.writeHead(200, json);
      res.write('{');
      const timer = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case 'down':
      req.socket.destroy();
      return;
    case 'error500':
      res.writeHead(500, json).end('{"error":"server_error","error_description":"boom"}');
      return;
  }
}
