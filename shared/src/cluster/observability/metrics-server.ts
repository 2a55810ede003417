import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { MetricsListenError } from './errors/metrics-listen-error.js';

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Ready to serve its purpose (connected, started); /readyz answers 503 until then. */
  readonly ready: () => boolean;
}

/** /metrics (Prometheus text), /healthz (alive) and /readyz (ready) on one port. */
export class MetricsServer {
  private server: Server | undefined;
  port = 0;

  constructor(private readonly opts: MetricsServerOptions) {}

  async start(): Promise<void> {
    const { registry, ready } = this.opts;
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        registry
          .metrics()
          .then((text) => {
            res.writeHead(200, { 'content-type': registry.contentType });
            res.end(text);
          })
          .catch((e: Error) => {
            res.writeHead(500);
            res.end(e.message);
          });
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      } else if (path === '/readyz') {
        const ok = ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
        res.end(ok ? 'ready\n' : 'not ready\n');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const { host, port } = this.opts;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e) => reject(new MetricsListenError(`cannot serve metrics on ${host}:${port}: ${e.message}`)));
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
