import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_SERVER_ARGS } from '@mailbus/config';
import { Redis } from 'ioredis';
import { freePort, sleep } from './free-port.js';

export interface RedisServerOptions {
  /** AOF with appendfsync always (default true), as mailbus requires for durability fsync. */
  aof?: boolean;
  /** Extra redis-server arguments, e.g. ['--maxmemory-policy', 'allkeys-lru']. */
  args?: string[];
  port?: number;
}

/**
 * A real redis-server on a free loopback port with its own temporary directory,
 * so a test can stop, kill and restart it (from its AOF).
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-redis-'));
    const server = new RedisServer(port, dir, options);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  private async launch(): Promise<void> {
    const aof = this.options.aof ?? true;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      ...REDIS_SERVER_ARGS,
      '--appendonly',
      aof ? 'yes' : 'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      ...(this.options.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = new Redis({
        port: this.port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        // AOF loading answers LOADING: wait until a real reply.
        if ((await c.ping()) === 'PONG') {
          c.disconnect();
          return;
        }
      } catch {
        // not up yet
      }
      c.disconnect();
      if (Date.now() > deadline || !this.child)
        throw new Error(`redis-server on port ${this.port} did not start`);
      await sleep(20);
    }
  }

  /** Stops it cleanly (SIGTERM: AOF flushed). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Kills it (SIGKILL): whatever was not fsynced is gone, as in a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      this.child = undefined;
      return;
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(sig);
    // A Redis that does not stop on SIGTERM within 5 s (seen with a replica
    // mid-resync) is killed, so no test hangs in its cleanup.
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Starts it again on the same port and directory (loading the AOF). */
  async restart(): Promise<void> {
    if (this.child) await this.stop();
    await this.launch();
  }

  /** A fresh client for assertions. */
  client(): Redis {
    return new Redis({ port: this.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
