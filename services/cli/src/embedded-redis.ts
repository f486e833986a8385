import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_SERVER_ARGS } from '@mailbus/config';
import { Redis } from 'ioredis';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * The Redis `mailbus start` runs for the embedded default when no Redis is
 * configured: a redis-server child on a free loopback port in a temporary
 * directory, with AOF appendfsync always and noeviction, stopped on exit.
 */
export class EmbeddedRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(binary = 'redis-server'): Promise<EmbeddedRedis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-embedded-redis-'));
    const child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        ...REDIS_SERVER_ARGS,
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) =>
        reject(
          new Error(
            `cannot start ${binary}: ${e.message} (install redis-server, or set redis.url / MAILBUS_REDIS_URL)`,
          ),
        ),
      );
      child.once('exit', (code) => reject(new Error(`${binary} exited with status ${code}`)));
    });
    const ready = (async () => {
      for (let i = 0; i < 200; i++) {
        const c = new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.ping();
          c.disconnect();
          return;
        } catch {
          c.disconnect();
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      throw new Error(`${binary} did not answer on port ${port}`);
    })();
    await Promise.race([ready, failed]);
    return new EmbeddedRedis(child, port, dir);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      // AOF is fsynced on every write: a Redis that has not stopped after 10 s is killed.
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
