import type { Config } from '@mailbus/config';
import { redisTargetOf, type RedisTarget } from '@mailbus/queue';
import { dataDirOf, runningEmbeddedRedis } from './run-file.js';
import { UserError } from './usage-error.js';

/**
 * The Redis a CLI command talks to: --redis URL; else the config's
 * (redis.url / MAILBUS_REDIS_URL, sentinel, cluster); else the embedded Redis
 * of a `mailbus start` running on the data directory (its run file).
 */
export function cliRedisTarget(
  config: Config,
  flag: string | undefined,
  dataDirFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): RedisTarget {
  if (flag) return { url: flag };
  const target = redisTargetOf(config.redis);
  if (target.url || target.sentinel || target.cluster) return target;
  const dir = dataDirOf(dataDirFlag, env);
  const url = runningEmbeddedRedis(dir);
  if (url) return { url };
  throw new UserError(
    `MAILBUS_ERR_REDIS_UNREACHABLE: no Redis to talk to: the config names none (redis.url, redis.sentinel, redis.cluster) and no \`mailbus start\` runs on the data directory ${dir}; start it, or give --data-dir DIR or --redis URL`,
  );
}
