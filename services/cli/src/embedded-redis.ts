import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
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

  /**
   * Starts redis-server on the data directory and waits for its PONG. `signal`
   * aborts the start (Ctrl-C while Redis still loads): the child is stopped and
   * awaited, never left running on its own.
   */
  static async start(
    dataDir: string,
    o: { binary?: string; signal?: AbortSignal } = {},
  ): Promise<EmbeddedRedis> {
    const binary = o.binary ?? 'redis-server';
    const aborted = () => new UserError('stopped while the embedded redis-server was starting');
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw new UserError(`--data-dir ${dataDir}: cannot create it (${(e as Error).message})`);
    }
    const dir = realpathSync(dataDir);
    await takeOver(dir);
    const port = await freePort();
    if (o.signal?.aborted) throw aborted();
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
    // Recorded at once: a mailbus killed (SIGKILL) while Redis still loads leaves
    // a run file, so the next start stops this redis-server (takeOver).
    writeRunFile(dir, {
      pid: process.pid,
      redisPid: child.pid ?? 0,
      url: `redis://127.0.0.1:${port}`,
    });
    const abort = new Promise<never>((_, reject) => {
      if (o.signal?.aborted) reject(aborted());
      o.signal?.addEventListener('abort', () => reject(aborted()), { once: true });
    });
    abort.catch(() => undefined);
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
    ready.catch(() => undefined);
    const redis = new EmbeddedRedis(child, port, dir);
    try {
      await Promise.race([ready, failed, abort]);
    } catch (e) {
      await redis.stop();
      throw e;
    }
    return redis;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    removeRunFile(this.dir);
  }
}

/** SIGTERM, SIGKILL after 10 s (AOF is fsynced on every write); resolves once the child has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
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
