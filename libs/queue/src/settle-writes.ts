import { settleDurably, waitDurable, type DurabilityPolicy } from './durability.js';
import { isCluster, type RedisClient } from './redis-connection.js';

/**
 * `settleDurably` for any connection. On one Redis it is exactly that. On a
 * Redis Cluster a submission's writes land on several masters (the body's
 * slot and each queue partition's slot), and WAIT / WAITAOF only cover the
 * writes of the connection they are sent on: so the durability wait is sent
 * on the cluster's connection to every master, in parallel, and all must
 * succeed. A master this submission did not write to answers at once
 * (nothing of this connection is pending there).
 */
export async function settleWrites(
  redis: RedisClient,
  policy: DurabilityPolicy,
  writes: Array<Promise<unknown>>,
): Promise<Array<PromiseSettledResult<unknown>>> {
  if (!isCluster(redis)) return settleDurably(redis, policy, writes);
  const results = await Promise.allSettled(writes);
  if (policy.durability === 'memory' || results.some((r) => r.status === 'rejected'))
    return results;
  const masters = redis.nodes('master');
  const waits = await Promise.allSettled(
    masters.length > 0
      ? masters.map((node) => waitDurable(node, policy))
      : [Promise.reject(new Error('Redis Cluster: no master known'))],
  );
  const failed = waits.find((w) => w.status === 'rejected');
  return [...results, failed ?? { status: 'fulfilled', value: undefined }];
}
