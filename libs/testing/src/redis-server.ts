import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, type RedisServerProcess } from '@mailbus/redis-server';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

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
  private process: RedisServerProcess | undefined;
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
    return this.process?.running ?? false;
  }

  private async launch(): Promise<void> {
    const aof = this.options.aof ?? true;
    this.process = await startRedisServer({
      dir: this.dir,
      port: this.port,
      args: ['--appendonly', aof ? 'yes' : 'no', ...(this.options.args ?? [])],
      readyTimeoutMs: 10_000,
    });
  }

  /**
   * Stops it cleanly (SIGTERM: AOF flushed). A Redis that does not stop
   * within 5 s (seen with a replica mid-resync) is killed, so no test hangs
   * in its cleanup.
   */
  async stop(): Promise<void> {
    await this.process?.stop(5000);
  }

  /** Kills it (SIGKILL): whatever was not fsynced is gone, as in a crash. */
  async kill(): Promise<void> {
    await this.process?.kill();
  }

  /** Starts it again on the same port and directory (loading the AOF). */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
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
