import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * The admin HTTP service, built and not yet listening (see createAdmin).
 * `close()` is idempotent: it stops accepting and ends open requests; the
 * injected queue, metrics and logger belong to the caller.
 */
export class AdminServer {
  private closing: Promise<void> | undefined;

  constructor(readonly app: FastifyInstance) {}

  /** Starts listening; port 0 picks a free one (see address()). */
  async listen(host: string, port: number): Promise<void> {
    await this.app.listen({ host, port });
  }

  /** Where it listens, or null before listen / after close. */
  address(): { host: string; port: number } | null {
    const a = this.app.server.address() as AddressInfo | string | null;
    if (!a || typeof a === 'string') return null;
    return { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    this.closing ??= this.app.close();
    return this.closing;
  }
}
