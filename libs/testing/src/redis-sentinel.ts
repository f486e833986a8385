import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, sleep } from './free-port.js';
import { RedisServer } from './redis-server.js';

export interface RedisSentinelOptions {
  /** Monitored primary name (default "mailbus"). */
  name?: string;
  /** Replicas of the primary (default 1). */
  replicas?: number;
  /** Sentinel processes (default 1); the quorum is always 1. */
  sentinels?: number;
  /** Give up starting after this long (default 20 s). */
  timeoutMs?: number;
  /**
   * Sentinel `down-after-milliseconds` (default 2000). At 1000 a sentinel
   * can declare a just-promoted primary down before its first PING to it is
   * answered, and fail over a second time.
   */
  downAfterMs?: number;
}

interface SentinelProcess {
  port: number;
  dir: string;
  child: ChildProcess | undefined;
}

/**
 * A Sentinel-managed Redis on loopback: a primary and its replicas (each a
 * RedisServer: AOF always, noeviction, own directory) watched by
 * `redis-server <conf> --sentinel` processes with quorum 1,
 * `down-after-milliseconds 2000` and `failover-timeout 3000`, so a killed
 * primary is replaced within a few seconds.
 */
export class RedisSentinelGroup {
  private constructor(
    readonly name: string,
    /** Every data server, the initial primary first. */
    readonly servers: RedisServer[],
    private readonly sentinels: SentinelProcess[],
  ) {}

  static async start(options: RedisSentinelOptions = {}): Promise<RedisSentinelGroup> {
    const name = options.name ?? 'mailbus';
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    const group = new RedisSentinelGroup(name, [], []);
    try {
      const primary = await RedisServer.start();
      group.servers.push(primary);
      for (let i = 0; i < (options.replicas ?? 1); i++) {
        group.servers.push(
          await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] }),
        );
      }
      await group.waitForReplication(primary.port, group.servers.length - 1, deadline);
      for (let i = 0; i < (options.sentinels ?? 1); i++) {
        const port = await freePort();
        const dir = mkdtempSync(join(tmpdir(), 'mailbus-sentinel-'));
        const conf = join(dir, 'sentinel.conf');
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            `logfile ${join(dir, 'sentinel.log')}`,
            `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
            `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 2000}`,
            `sentinel failover-timeout ${name} 3000`,
            `sentinel parallel-syncs ${name} 1`,
            '',
          ].join('\n'),
        );
        const s: SentinelProcess = { port, dir, child: undefined };
        s.child = spawn(
          'redis-server',
          [conf, '--sentinel', '--loglevel', process.env.MAILBUS_SENTINEL_LOGLEVEL ?? 'warning'],
          {
            stdio: 'ignore',
          },
        );
        s.child.on('exit', () => (s.child = undefined));
        group.sentinels.push(s);
      }
      // Ready when every sentinel knows the primary, all its replicas and
      // every other sentinel (found through hello messages, every 2 s). A
      // sentinel that knows no peer would, with quorum 1, fail over on its
      // own: two sentinels could promote two different replicas.
      const count = (port: number, what: string) =>
        call(port, ['SENTINEL', what, name]).then(
          (r) => (Array.isArray(r) ? r.length : 0),
          () => -1,
        );
      for (const s of group.sentinels) {
        for (;;) {
          const replicas = await count(s.port, 'REPLICAS');
          const peers = await count(s.port, 'SENTINELS');
          if (replicas >= group.servers.length - 1 && peers >= group.sentinels.length - 1) break;
          if (Date.now() > deadline)
            throw new Error(
              `sentinel ${s.port} sees ${replicas} replicas and ${peers} other sentinels`,
            );
          await sleep(100);
        }
      }
      return group;
    } catch (err) {
      await group.close();
      throw err;
    }
  }

  /** Sentinel addresses, host:port, as `redis.sentinel.sentinels` takes them. */
  get addresses(): string[] {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`);
  }

  /** Sentinel ports. */
  get ports(): number[] {
    return this.sentinels.map((s) => s.port);
  }

  /** The port the sentinels currently name as primary. */
  async primaryPort(): Promise<number> {
    for (const s of this.sentinels) {
      const r = await call(s.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name]).catch(
        () => null,
      );
      if (Array.isArray(r) && r[1] !== undefined) return Number(r[1]);
    }
    throw new Error('no sentinel answered');
  }

  /** The data server on a port. */
  server(port: number): RedisServer {
    const s = this.servers.find((x) => x.port === port);
    if (!s) throw new Error(`no redis-server on port ${port} in this group`);
    return s;
  }

  /** Waits until the sentinels name a primary other than `oldPort` and it answers as master. */
  async waitForFailover(oldPort: number, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const port = await this.primaryPort().catch(() => oldPort);
      if (port !== oldPort) {
        const role = await call(port, ['ROLE']).catch(() => null);
        if (Array.isArray(role) && role[0] === 'master') return port;
      }
      if (Date.now() > deadline)
        throw new Error(`no failover away from ${oldPort} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Waits until the primary on `port` has `replicas` connected, in sync, replicas. */
  async waitForReplication(
    port: number,
    replicas: number,
    deadline = Date.now() + 20_000,
  ): Promise<void> {
    for (;;) {
      const info = String(await call(port, ['INFO', 'replication']).catch(() => ''));
      const n = [...info.matchAll(/^slave\d+:.*state=online/gm)].length;
      if (n >= replicas) return;
      if (Date.now() > deadline)
        throw new Error(`primary ${port}: ${n}/${replicas} replicas online`);
      await sleep(100);
    }
  }

  /** Kills every sentinel and data server and removes their directories. */
  async close(): Promise<void> {
    await Promise.all(
      this.sentinels.map(async (s) => {
        const child = s.child;
        if (child) {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGKILL');
          await exited;
        }
        rmSync(s.dir, { recursive: true, force: true });
      }),
    );
    await Promise.all(
      this.servers.map(async (s) => {
        await s.kill();
        await s.close();
      }),
    );
  }
}

async function call(port: number, args: string[]): Promise<unknown> {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 1000,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const [cmd = '', ...rest] = args;
    return await c.call(cmd, ...rest);
  } finally {
    c.disconnect();
  }
}
