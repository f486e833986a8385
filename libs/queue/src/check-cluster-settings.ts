import { Redis, type Cluster } from 'ioredis';
import {
  checkRedisSettings,
  type Durability,
  type RedisSettingsReport,
} from './check-redis-settings.js';

/** The start check of every master of a cluster, merged; each message names its node. */
export interface ClusterSettingsReport {
  errors: string[];
  warnings: string[];
  /** host:port of each master checked. */
  masters: string[];
}

/**
 * `checkRedisSettings` on every master of a Redis Cluster (each master holds
 * some of the queues, so each must be noeviction and persistent), plus
 * `CLUSTER INFO`: a cluster whose state is not ok cannot serve every slot.
 * Waits for the slot map first (bounded by `timeoutMs`).
 */
export async function checkClusterSettings(
  cluster: Cluster,
  durability: Durability,
  strict: boolean,
  timeoutMs = 10_000,
): Promise<ClusterSettingsReport> {
  const deadline = Date.now() + timeoutMs;
  // Any keyless command goes to some node once the slot map is known.
  const info = String(await cluster.call('CLUSTER', 'INFO'));
  const errors: string[] = [];
  const warnings: string[] = [];
  const state = /cluster_state:(\w+)/.exec(info)?.[1];
  if (state !== 'ok') {
    errors.push(clusterStateError(state));
  }
  let masters = cluster.nodes('master');
  while (masters.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    masters = cluster.nodes('master');
  }
  const names: string[] = [];
  const reports = await Promise.all(
    masters.map(async (node) => {
      const name = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
      names.push(name);
      const r: RedisSettingsReport = await checkRedisSettings(node, durability, strict);
      return { name, r };
    }),
  );
  for (const { name, r } of reports) {
    errors.push(...r.errors.map((e) => `${e} [cluster master ${name}]`));
    warnings.push(...r.warnings.map((w) => `${w} [cluster master ${name}]`));
  }
  if (masters.length === 0)
    errors.push('MAILBUS_ERR_REDIS_CLUSTER: no cluster master known (check redis.cluster.nodes)');
  return { errors, warnings, masters: names.sort() };
}

/** The message of a cluster whose state is not ok; `where` names the node that said so. */
function clusterStateError(state: string | undefined, where = ''): string {
  return `MAILBUS_ERR_REDIS_CLUSTER: cluster_state is "${state ?? 'unknown'}"${where}; every slot must be served by a master before mailbus can queue (redis-cli --cluster check)`;
}

/**
 * Asks each seed node itself for `CLUSTER INFO`, one plain connection each,
 * for why a cluster client never became ready: ioredis's ready check
 * reconnects silently while the cluster says `cluster_state:fail`. The first
 * seed that answers with a state other than ok gives MAILBUS_ERR_REDIS_CLUSTER;
 * undefined when every seed that answered is ok, or none answered.
 */
export async function seedClusterStateError(
  seeds: readonly string[],
  timeoutMs = 2000,
): Promise<string | undefined> {
  for (const seed of seeds) {
    const i = seed.lastIndexOf(':');
    const c = new Redis({
      host: seed.slice(0, i).replace(/^\[|\]$/g, ''),
      port: Number(seed.slice(i + 1)),
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const info = String(await c.call('CLUSTER', 'INFO'));
      const state = /cluster_state:(\w+)/.exec(info)?.[1];
      if (state !== 'ok') return clusterStateError(state, ` (seed ${seed})`);
    } catch {
      // This seed does not answer: the next one may.
    } finally {
      c.disconnect();
    }
  }
  return undefined;
}
