import {
  describeRedisTarget,
  seedClusterStateError,
  type RedisClient,
  type RedisTarget,
} from '@mailbus/queue';
import { UserError } from './usage-error.js';

/** How long a command or `mailbus start` waits for Redis before giving up. */
export const REDIS_REACH_TIMEOUT_MS = 5_000;

/**
 * Resolves once the client is connected and ready; rejects with
 * MAILBUS_ERR_REDIS_UNREACHABLE naming the address and the last connection
 * error after `timeoutMs` (a reconnecting client would otherwise wait forever).
 * A cluster client that never became ready because the cluster says
 * `cluster_state:fail` (its ready check reconnects without an error) rejects
 * with MAILBUS_ERR_REDIS_CLUSTER instead, as the seeds themselves report it.
 */
export function waitReachable(
  client: RedisClient,
  target: RedisTarget,
  timeoutMs = REDIS_REACH_TIMEOUT_MS,
): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = 'no answer';
    const onError = (e: Error) => {
      lastError = e.message || String(e);
    };
    const done = () => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('ready', onReady);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      const unreachable = `MAILBUS_ERR_REDIS_UNREACHABLE: cannot reach Redis at ${describeRedisTarget(target)} within ${timeoutMs / 1000} s: ${lastError}`;
      if (!target.cluster) return reject(new UserError(unreachable));
      void seedClusterStateError(target.cluster.nodes).then((clusterError) =>
        reject(new UserError(clusterError ?? unreachable)),
      );
    }, timeoutMs);
    client.on('error', onError);
    client.once('ready', onReady);
  });
}
