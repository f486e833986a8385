import { mkdirSync, realpathSync } from 'node:fs';
import {
  RedisServerStartError,
  startRedisServer,
  type RedisServerProcess,
} from '@mailbus/redis-server';
import { Redis } from 'ioredis';
import { isAlive, readRunFile, removeRunFile, writeRunFile } from './run-file.js';
import { UserError } from './usage-error.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client that fails at once instead of reconnecting: for probes. */
function probeClient(url: string): Redis {
  const c = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  c.on('error', () => undefined);
  return c;
}

/**
 * The Redis `mailbus start` runs for the embedded default when no Redis is
 * configured: a redis-server child on a free loopback port whose AOF
 * (appendfsync always, noeviction) lives in the data directory, so queued
 * mail survives a restart. It runs in its own process group (Ctrl-C reaches
 * only mailbus, which then stops it last), and a run file in the data
 * directory tells the other commands where it listens.
 */
export class EmbeddedRedis {
  private constructor(private readonly redis: RedisServerProcess) {}

  get url(): string {
    return this.redis.url;
  }

  get port(): number {
    return this.redis.port;
  }

  get dir(): string {
    return this.redis.dir;
  }

  static async start(dataDir: string, binary = 'redis-server'): Promise<EmbeddedRedis> {
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw new UserError(`--data-dir ${dataDir}: cannot create it (${(e as Error).message})`);
    }
    const dir = realpathSync(dataDir);
    await takeOver(dir);
    const redis = await startRedisServer({ dir, binary, detached: true, stderr: 'inherit' }).catch(
      (e: unknown) => {
        if (!(e instanceof RedisServerStartError)) throw e;
        if (e.reason === 'spawn')
          throw new UserError(
            `${e.message} (install redis-server, or set redis.url / MAILBUS_REDIS_URL)`,
          );
        if (e.reason === 'exit') throw new UserError(`${e.message} (data directory ${dir})`);
        throw new UserError(e.message);
      },
    );
    writeRunFile(dir, { pid: process.pid, redisPid: redis.child.pid ?? 0, url: redis.url });
    return new EmbeddedRedis(redis);
  }

  async stop(): Promise<void> {
    // AOF is fsynced on every write: a Redis that has not stopped after 10 s is killed.
    await this.redis.stop(10_000);
    removeRunFile(this.dir);
  }
}

/**
 * Before starting on a data directory: refuse when a live mailbus uses it; stop
 * the redis-server a killed mailbus left behind (it still holds the AOF).
 */
async function takeOver(dir: string): Promise<void> {
  const run = readRunFile(dir);
  if (!run) return;
  if (run.pid !== process.pid && isAlive(run.pid))
    throw new UserError(
      `MAILBUS_ERR_DATA_DIR_IN_USE: ${dir} is the data directory of a running mailbus (pid ${run.pid}); stop it, or give another --data-dir`,
    );
  if (isAlive(run.redisPid)) {
    const c = probeClient(run.url);
    try {
      await c.connect();
      const [, redisDir] = (await c.config('GET', 'dir')) as [string, string];
      if (redisDir === dir) await c.shutdown().catch(() => undefined);
    } catch {
      // not a Redis of ours any more
    } finally {
      c.disconnect();
    }
    const deadline = Date.now() + 10_000;
    while (isAlive(run.redisPid) && Date.now() < deadline) await sleep(50);
  }
  removeRunFile(dir);
}
