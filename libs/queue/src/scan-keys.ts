import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './redis-connection.js';

/**
 * Every key matching `pattern`, in batches, for one Redis or a Redis Cluster
 * (where SCAN only sees the keys of the node it runs on: every master is
 * scanned in turn). Keys may repeat, as with SCAN itself.
 */
export async function* scanKeys(
  redis: RedisClient,
  pattern: string,
  count = 1000,
): AsyncGenerator<string[]> {
  const nodes: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    const stream = node.scanStream({ match: pattern, count });
    for await (const keys of stream as AsyncIterable<string[]>) yield keys;
  }
}
