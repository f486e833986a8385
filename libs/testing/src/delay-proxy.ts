import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxyOptions {
  /** Where each accepted connection is forwarded. */
  target: { host: string; port: number };
  /** Each chunk, in either direction, is passed on this long after it arrived (order kept). */
  delayMs: number;
}

/**
 * A TCP proxy on 127.0.0.1 that delays every chunk by `delayMs` in both
 * directions: a far-away peer (a Sentinel on another host) on loopback. One
 * end closing or failing closes the other.
 */
export class DelayProxy {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async start(options: DelayProxyOptions): Promise<DelayProxy> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = createConnection(options.target);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      pipeDelayed(client, upstream, options.delayMs);
      pipeDelayed(upstream, client, options.delayMs);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    return new DelayProxy(server, sockets, typeof addr === 'object' && addr ? addr.port : 0);
  }

  /** host:port of the proxy. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops listening and destroys every open connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

/** Copies `from` to `to`, each chunk `delayMs` after it arrived; an end or close travels the same way. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}
