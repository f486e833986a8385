import { createServer, type Server } from 'node:http';
import type { Metrics } from '@mailbus/telemetry';

/**
 * The HTTP endpoints every node serves when it does not run the admin role:
 * `/healthz` (process up), `/readyz` (Redis reachable), `/metrics` (this
 * process's Prometheus metrics). No authentication: probes and scrapers.
 */
export class NodeHttp {
  private readonly server: Server;

  constructor(metrics: Metrics, isReady: () => Promise<boolean>) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405).end();
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        isReady().then(
          (ok) =>
            res
              .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
              .end(ok ? 'ready\n' : 'not ready\n'),
          () => res.writeHead(503).end('not ready\n'),
        );
      } else if (path === '/metrics') {
        metrics.render().then(
          (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          (e: unknown) => res.writeHead(500).end(String(e)),
        );
      } else {
        res.writeHead(404).end();
      }
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  address(): { host: string; port: number } | undefined {
    const a = this.server.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
