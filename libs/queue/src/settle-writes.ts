import { settleDurably, waitDurable, type DurabilityPolicy } from './durability.js';
import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './redis-connection.js';

/**
 * `settleDurably` for any connection. On one Redis it is exactly that. On a
 * Redis Cluster a submission's writes land on several masters (the body's
 * slot and each queue partition's slot), and WAIT / WAITAOF only cover the
 * writes of the connection they are sent on: so the durability wait is sent
 * on the cluster's connection to every master, in parallel, and all must
 * succeed. A master this submission did not write to answers at once
 * (nothing of this connection is pending there).
 *
 * A master that acknowledged a write and died before the wait (its replica
 * promoted, the node dropped from the client's map) must fail the wait, not
 * be skipped, or the write it alone held would be lost after a 250. So the
 * wait goes to `sentTo`, the masters known when the writes were sent (default:
 * now, for a caller in that tick), and to those known after (a write
 * redirected by MOVED); a connection that is gone fails it.
 */
export async function settleWrites(
  redis: RedisClient,
  policy: DurabilityPolicy,
  writes: Array<Promise<unknown>>,
  sentTo?: Redis[],
): Promise<Array<PromiseSettledResult<unknown>>> {
  if (!isCluster(redis)) return settleDurably(redis, policy, writes);
  const before = sentTo ?? redis.nodes('master');
  const results = await Promise.allSettled(writes);
  if (policy.durability === 'memory' || results.some((r) => r.status === 'rejected'))
    return results;
  const masters = [...new Set([...before, ...redis.nodes('master')])];
  const waits = await Promise.allSettled(
    masters.length > 0
      ? masters.map((node) => waitDurable(node, policy))
      : [Promise.reject(new Error('Redis Cluster: no master known'))],
  );
  const failed = waits.find((w) => w.status === 'rejected');
  return [...results, failed ?? { status: 'fulfilled', value: undefined }];
}
