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
 * Reads Redis persistence and eviction settings at start (DESIGN "SMTP replies"):
 * refuses any maxmemory-policy but noeviction, and reports persistence weaker
 * than the configured durability (an error in strict mode, else a warning).
 */
export async function checkRedisSettings(redis: Redis, durability: Durability, strict: boolean): Promise<RedisSettingsReport> {
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
  const weak: string[] = [];
  if (durability === 'fsync') {
    const aof = await configGet(redis, 'appendonly');
    const fsync = await configGet(redis, 'appendfsync');
    if (aof !== undefined && aof !== 'yes') weak.push(`appendonly is "${aof}" (set appendonly yes)`);
    if (fsync !== undefined && fsync !== 'always' && !hasWaitAof) {
      weak.push(`appendfsync is "${fsync}" and this Redis ${version} has no WAITAOF (set appendfsync always)`);
    }
  } else if (durability === 'replicated') {
    const repl = await redis.info('replication');
    const replicas = Number(/connected_slaves:(\d+)/.exec(repl)?.[1] ?? '0');
    if (replicas < 1) weak.push('durability replicated needs at least one connected replica (WAIT 1), and none is connected');
  }
  for (const w of weak) {
    const text = `MAILBUS_ERR_REDIS_PERSISTENCE: redis.durability is ${durability} but ${w}; a message answered 250 could be lost in a Redis crash`;
    if (strict) errors.push(text);
    else warnings.push(text);
  }
  return { errors, warnings, version, hasWaitAof };
}
