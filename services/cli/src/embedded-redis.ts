import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { REDIS_SERVER_ARGS } from '@mailbus/config';
import { Redis } from 'ioredis';
import { isAlive, readRunFile, removeRunFile, writeRunFile } from './run-file.js';
import { UserError } from './usage-error.js';

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
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(dataDir: string, binary = 'redis-server'): Promise<EmbeddedRedis> {
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw new UserError(`--data-dir ${dataDir}: cannot create it (${(e as Error).message})`);
    }
    const dir = realpathSync(dataDir);
    await takeOver(dir);
    const port = await freePort();
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
      { stdio: ['ignore', 'ignore', 'inherit'], detached: true },
    );
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) =>
        reject(
          new UserError(
            `cannot start ${binary}: ${e.message} (install redis-server, or set redis.url / MAILBUS_REDIS_URL)`,
          ),
        ),
      );
      child.once('exit', (code) =>
        reject(new UserError(`${binary} exited with status ${code} (data directory ${dir})`)),
      );
    });
    failed.catch(() => undefined);
    const ready = (async () => {
      // Loading a large AOF answers LOADING for a while: wait for a real PONG.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const c = probeClient(`redis://127.0.0.1:${port}`);
        try {
          await c.connect();
          if ((await c.ping()) === 'PONG') return;
        } catch {
          // not up yet
        } finally {
          c.disconnect();
        }
        await sleep(25);
      }
      throw new UserError(`${binary} did not answer on port ${port} within 30 s`);
    })();
    try {
      await Promise.race([ready, failed]);
    } catch (e) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw e;
    }
    const redis = new EmbeddedRedis(child, port, dir);
    writeRunFile(dir, { pid: process.pid, redisPid: child.pid ?? 0, url: redis.url });
    return redis;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      // AOF is fsynced on every write: a Redis that has not stopped after 10 s is killed.
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
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
