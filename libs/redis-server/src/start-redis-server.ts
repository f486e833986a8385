import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { REDIS_SERVER_ARGS } from '@mailbus/config';

export interface StartRedisServerOptions {
  /** Its working directory: the AOF lives here (`--dir`). */
  dir: string;
  /** The port on 127.0.0.1 (default: one that is free). */
  port?: number;
  /** Arguments after mailbus's settings (REDIS_SERVER_ARGS); later ones win. */
  args?: readonly string[];
  /** The executable (default `redis-server` on the PATH). */
  binary?: string;
  /** Its own process group, so a Ctrl-C at the terminal reaches only the parent. */
  detached?: boolean;
  /** Where its stderr goes (default: nowhere). */
  stderr?: 'inherit' | 'ignore';
  /** Give up when it has not answered PING within this long (default 30 s: a large AOF loads). */
  readyTimeoutMs?: number;
  /** Aborts the start (Ctrl-C while Redis still loads): the child is stopped and awaited. */
  signal?: AbortSignal;
  /** Told as soon as the child is spawned, before it answers (to record its pid). */
  onSpawn?: (redis: RedisServerProcess) => void;
}

/** Why a redis-server did not start: it could not be run, it exited, it never answered, or the start was aborted. */
export class RedisServerStartError extends Error {
  constructor(
    readonly reason: 'spawn' | 'exit' | 'timeout' | 'aborted',
    message: string,
  ) {
    super(message);
    this.name = 'RedisServerStartError';
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** What a Redis on a port answers: its reply to PING and the process id INFO names. */
export interface RedisProbe {
  /** '+PONG'; '-LOADING …' while it loads its AOF; '' when nothing answered. */
  ping: string;
  /** `process_id` of INFO server: which process answered. */
  pid?: number;
}

/**
 * Asks a Redis on 127.0.0.1:`port` for PING and INFO server over a plain
 * socket (answered even while loading), within `ms`.
 */
export function probeRedis(port: number, ms = 1000): Promise<RedisProbe> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let settled = false;
    const done = (probe: RedisProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    const timer = setTimeout(() => done({ ping: '' }), ms);
    socket.on('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      // "<ping reply>\r\n$<length>\r\n<INFO text>\r\n"
      const m = /^([^\r]*)\r\n\$(\d+)\r\n/.exec(text);
      if (!m?.[1] || !m[2] || text.length < m[0].length + Number(m[2])) return;
      const pid = /^process_id:(\d+)/m.exec(text.slice(m[0].length))?.[1];
      done({ ping: m[1], ...(pid ? { pid: Number(pid) } : {}) });
    });
    socket.on('error', () => done({ ping: '' }));
    socket.on('close', () => done({ ping: '' }));
  });
}

/** A redis-server child process that answered PING itself. */
export class RedisServerProcess {
  constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the process was spawned and has not exited yet. */
  get running(): boolean {
    return (
      this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /**
   * SIGTERM (it flushes its AOF) and waits for the exit; killed when it has
   * not stopped after `graceMs`, so no caller waits forever.
   */
  stop(graceMs = 10_000): Promise<void> {
    return this.signal('SIGTERM', graceMs);
  }

  /** SIGKILL: whatever was not fsynced is gone, as in a crash. */
  kill(): Promise<void> {
    return this.signal('SIGKILL', 0);
  }

  private async signal(sig: NodeJS.Signals, graceMs: number): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill(sig);
    const timer = graceMs > 0 ? setTimeout(() => this.child.kill('SIGKILL'), graceMs) : undefined;
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Starts a redis-server with mailbus's settings (REDIS_SERVER_ARGS: AOF
 * always, noeviction, no RDB) on 127.0.0.1 and resolves once it answers
 * PING with PONG (not LOADING) itself; rejects with RedisServerStartError when it
 * cannot be run, exits first, does not answer within the timeout, or `signal`
 * aborts the start; the child is then stopped before the promise settles. The
 * one way mailbus starts a Redis: the embedded default of `mailbus start`
 * and every test's Redis.
 */
export async function startRedisServer(o: StartRedisServerOptions): Promise<RedisServerProcess> {
  const binary = o.binary ?? 'redis-server';
  const port = o.port ?? (await freePort());
  const aborted = () =>
    new RedisServerStartError('aborted', `stopped while ${binary} was starting`);
  if (o.signal?.aborted) throw aborted();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      o.dir,
      ...REDIS_SERVER_ARGS,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      ...(o.args ?? []),
    ],
    { stdio: ['ignore', 'ignore', o.stderr ?? 'ignore'], detached: o.detached ?? false },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) =>
      reject(new RedisServerStartError('spawn', `cannot start ${binary}: ${e.message}`)),
    );
    child.once('exit', (code, signal) =>
      reject(new RedisServerStartError('exit', `${binary} exited with status ${code ?? signal}`)),
    );
  });
  failed.catch(() => undefined);
  const redis = new RedisServerProcess(child, port, o.dir);
  if (child.pid !== undefined) o.onSpawn?.(redis);
  const abort = new Promise<never>((_, reject) => {
    if (o.signal?.aborted) reject(aborted());
    o.signal?.addEventListener('abort', () => reject(aborted()), { once: true });
  });
  abort.catch(() => undefined);
  const timeoutMs = o.readyTimeoutMs ?? 30_000;
  let waiting = true;
  const ready = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (waiting && Date.now() < deadline) {
      // Its own PONG: not another Redis that already held the port.
      const probe = await probeRedis(port);
      if (probe.ping === '+PONG' && probe.pid === child.pid) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new RedisServerStartError(
      'timeout',
      `${binary} did not answer on port ${port} within ${timeoutMs / 1000} s`,
    );
  })();
  ready.catch(() => undefined);
  try {
    await Promise.race([ready, failed, abort]);
  } catch (e) {
    // Never left running on its own: stopped (killed after 10 s) and awaited.
    await redis.stop();
    throw e;
  } finally {
    waiting = false;
  }
  return redis;
}
