import type { Redis } from 'ioredis';

export type Durability = 'fsync' | 'replicated' | 'memory';

export interface RedisSettingsReport {
  /** Reasons the node must not run (noeviction missing, or weak persistence in strict mode). */
  errors: string[];
  /** Weaker persistence than configured, in non-strict mode. */
  warnings: string[];
  version: string;
  /** WAITAOF is available (Redis >= 7.2). */
  hasWaitAof: boolean;
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const r = (await redis.call('CONFIG', 'GET', name)) as string[];
    return r[1];
  } catch {
    return undefined;
  }
}

function versionAtLeast(v: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = v.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * Reads Redis persistence and eviction settings at start (DESIGN "SMTP replies").
 * Errors (the node refuses to run, whatever `strict` says), each naming the
 * setting to change:
 * - any maxmemory-policy but noeviction;
 * - `fsync` without AOF, or with appendfsync other than always on a Redis
 *   without WAITAOF (< 7.2): no message could ever be made durable;
 * - `replicated` with no connected replica: every WAIT would fail.
 * Warnings (errors in strict mode): `memory` (a Redis crash loses mail that
 * got 250), and `fsync` relying on WAITAOF (durable, but one wait per message).
 */
export async function checkRedisSettings(
  redis: Redis,
  durability: Durability,
  strict: boolean,
): Promise<RedisSettingsReport> {
  const info = await redis.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0.0.0';
  const hasWaitAof = versionAtLeast(version, 7, 2);
  const errors: string[] = [];
  const warnings: string[] = [];
  const policy = await configGet(redis, 'maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') {
    errors.push(
      `MAILBUS_ERR_REDIS_EVICTION: Redis maxmemory-policy is "${policy}"; it must be "noeviction" or Redis may silently drop queued mail (CONFIG SET maxmemory-policy noeviction, and set it in redis.conf)`,
    );
  }
  const cannot = (w: string) =>
    errors.push(
      `MAILBUS_ERR_REDIS_PERSISTENCE: redis.durability is ${durability} but ${w}; ingress could never answer 250 safely (or set redis.durability to match)`,
    );
  const weak = (w: string) => {
    const text = `MAILBUS_ERR_REDIS_PERSISTENCE: redis.durability is ${durability}: ${w}`;
    if (strict) errors.push(text);
    else warnings.push(text);
  };
  if (durability === 'fsync') {
    const aof = await configGet(redis, 'appendonly');
    const fsync = await configGet(redis, 'appendfsync');
    if (aof !== undefined && aof !== 'yes')
      cannot(`appendonly is "${aof}" (set appendonly yes and appendfsync always)`);
    else if (fsync !== undefined && fsync !== 'always') {
      if (!hasWaitAof)
        cannot(
          `appendfsync is "${fsync}" and this Redis ${version} has no WAITAOF (set appendfsync always, or run Redis >= 7.2)`,
        );
      else
        weak(
          `appendfsync is "${fsync}": each message waits for WAITAOF 1 0 (set appendfsync always to skip the wait)`,
        );
    }
  } else if (durability === 'replicated') {
    const repl = await redis.info('replication');
    const replicas = Number(/connected_slaves:(\d+)/.exec(repl)?.[1] ?? '0');
    if (replicas < 1)
      cannot(
        'no replica is connected to this Redis, so WAIT 1 can never succeed (attach a replica: replicaof on a second Redis)',
      );
  } else {
    weak(
      'durability memory is unsafe: a Redis crash or restart loses messages that were answered 250 (set redis.durability: fsync)',
    );
  }
  return { errors, warnings, version, hasWaitAof };
}
