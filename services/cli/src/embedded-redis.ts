import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
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

  /**
   * Starts redis-server on the data directory and waits for its PONG. `signal`
   * aborts the start (Ctrl-C while Redis still loads): the child is stopped and
   * awaited, never left running on its own.
   */
  static async start(
    dataDir: string,
    o: { binary?: string; signal?: AbortSignal } = {},
  ): Promise<EmbeddedRedis> {
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw new UserError(`--data-dir ${dataDir}: cannot create it (${(e as Error).message})`);
    }
    const dir = realpathSync(dataDir);
    await takeOver(dir);
    const redis = await startRedisServer({
      dir,
      detached: true,
      stderr: 'inherit',
      ...(o.binary ? { binary: o.binary } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      // Recorded at once: a mailbus killed (SIGKILL) while Redis still loads leaves
      // a run file, so the next start stops this redis-server (takeOver).
      onSpawn: (r) =>
        writeRunFile(dir, { pid: process.pid, redisPid: r.child.pid ?? 0, url: r.url }),
    }).catch((e: unknown) => {
      removeRunFile(dir);
      if (!(e instanceof RedisServerStartError)) throw e;
      switch (e.reason) {
        case 'spawn':
          throw new UserError(
            `${e.message} (install redis-server, or set redis.url / MAILBUS_REDIS_URL)`,
          );
        case 'exit':
          throw new UserError(`${e.message} (data directory ${dir})`);
        case 'aborted':
          throw new UserError('stopped while the embedded redis-server was starting');
        default:
          throw new UserError(e.message);
      }
    });
    return new EmbeddedRedis(redis);
  }

  async stop(): Promise<void> {
    // AOF is fsynced on every write: a Redis that has not stopped after 10 s is killed.
    await this.redis.stop(10_000);
    removeRunFile(this.dir);
  }
}

/** Whether `pid` is a redis-server listening on `port` (its process title, on Linux). */
function isRedisOnPort(pid: number, port: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return (
      cmd.includes('redis-server') && (cmd.includes(`:${port}`) || cmd.includes(`--port ${port}`))
    );
  } catch {
    return false;
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
      // Still loading its AOF (no CONFIG yet), or not a Redis of ours any more:
      // a redis-server on the run file's port is ours.
      if (isRedisOnPort(run.redisPid, new URL(run.url).port)) process.kill(run.redisPid, 'SIGTERM');
    } finally {
      c.disconnect();
    }
    const deadline = Date.now() + 10_000;
    while (isAlive(run.redisPid) && Date.now() < deadline) await sleep(50);
  }
  removeRunFile(dir);
}
