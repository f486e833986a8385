import { Writable } from 'node:stream';
import { coalesceWrites } from '@mailbus/smtp';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { superviseConnection, type ConnectionEndedHandler } from './connection-supervisor.js';

/** Where Redis is: one URL, a Sentinel-managed primary, or Redis Cluster seed nodes. */
export interface RedisTarget {
  url?: string;
  sentinel?: { name: string; sentinels: string[] };
  cluster?: { nodes: string[] };
}

/** A connection mailbus talks through: one Redis (direct or via Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

/** How the target is named in logs and errors. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.cluster) return `cluster ${target.cluster.nodes.join(',')}`;
  if (target.sentinel)
    return `sentinel ${target.sentinel.name}@${target.sentinel.sentinels.join(',')}`;
  return target.url ?? 'redis://127.0.0.1:6379';
}

/** The Redis target a config's `redis` section names (cluster, then sentinel, then url). */
export function redisTargetOf(r: {
  url?: string | undefined;
  sentinel?: { name: string; sentinels: string[] } | undefined;
  cluster?: { nodes: string[] } | undefined;
}): RedisTarget {
  if (r.cluster) return { cluster: { nodes: [...r.cluster.nodes] } };
  if (r.sentinel)
    return { sentinel: { name: r.sentinel.name, sentinels: [...r.sentinel.sentinels] } };
  return r.url ? { url: r.url } : {};
}

/**
 * After a Sentinel failover a client can still reach the demoted primary
 * (now a replica): its writes fail with READONLY. Reconnect, which asks the
 * sentinels for the current primary again; `resend` says whether the failed
 * command is sent again on the new connection (never for the producer: its
 * caller answers 451 and the client retries).
 */
function reconnectOnReadonly(resend: boolean): (err: Error) => boolean | 1 | 2 {
  return (err) => (err.message.startsWith('READONLY') ? (resend ? 2 : 1) : false);
}

function sentinelOptions(
  s: NonNullable<RedisTarget['sentinel']>,
  retry: (times: number) => number,
  failoverDetector: boolean,
): RedisOptions {
  return {
    sentinels: s.sentinels.map(hostPort),
    name: s.name,
    // Only ever the primary: the ready check compares INFO's role with this
    // and reconnects (asking the sentinels again) on a mismatch.
    role: 'master',
    enableReadyCheck: true,
    // Subscribe to +switch-master on the sentinels: a failover reconnects at
    // once, even while the old primary is still reachable (a partition).
    failoverDetector,
    // Keep asking the sentinels (never give up) while none answers.
    sentinelRetryStrategy: retry,
    sentinelReconnectStrategy: retry,
    sentinelCommandTimeout: 1000,
  };
}

function quiet<T extends RedisClient>(client: T): T {
  // Errors surface on commands; the connection-level event only needs a listener.
  client.on('error', () => undefined);
  if (client instanceof Cluster) client.on('+node', (node: Redis) => coalesce(node));
  else coalesce(client);
  return client;
}

/**
 * The commands of every session and job sent in one tick leave in one write
 * (coalesceWrites): fewer system calls here and fewer reads in Redis.
 * ioredis replaces the socket on every reconnect, hence on each 'connect'.
 */
function coalesce(client: Redis): void {
  client.on('connect', () => {
    const stream = (client as unknown as { stream?: unknown }).stream;
    if (stream instanceof Writable) coalesceWrites(stream);
  });
}

function make(
  target: RedisTarget,
  extra: RedisOptions,
  retry: (times: number) => number,
  producer: boolean,
  onEnded: ConnectionEndedHandler | undefined,
): Redis {
  const common: RedisOptions = {
    ...extra,
    retryStrategy: retry,
    reconnectOnError: reconnectOnReadonly(!producer),
  };
  const connection = producer ? 'producer' : 'worker';
  if (!target.sentinel) {
    const client = new Redis(target.url ?? 'redis://127.0.0.1:6379', common);
    return quiet(superviseConnection(client, connection, onEnded));
  }
  // The failover detector only on the producer: BullMQ duplicates the
  // worker connection (blocking reads) and closes duplicates with QUIT, which
  // would leave a detector's sentinel subscriptions running. A worker finds
  // the new primary anyway: its socket to the old one breaks (killed, or
  // demoted: Redis unblocks blocked clients, writes answer READONLY).
  const client = new Redis({ ...sentinelOptions(target.sentinel, retry, producer), ...common });
  return quiet(superviseConnection(client, connection, onEnded));
}

function makeCluster(
  nodes: readonly string[],
  redisOptions: RedisOptions,
  cluster: ClusterOptions,
): Cluster {
  return quiet(
    new Cluster(nodes.map(hostPort), {
      ...cluster,
      redisOptions,
      // Only masters: a replica read could miss a write acknowledged a moment ago.
      scaleReads: 'master',
      enableReadyCheck: true,
      // A failover or resharding answers MOVED/ASK/TRYAGAIN: follow it, bounded.
      maxRedirections: 16,
      retryDelayOnFailover: 100,
      retryDelayOnTryAgain: 100,
      retryDelayOnClusterDown: 200,
      slotsRefreshTimeout: 2000,
    }),
  );
}

/**
 * The producer connection (ingress): fails fast. With Redis down a command
 * errors at once (no offline queue) and a slow Redis times out after
 * `commandTimeout`, so the SMTP client gets 451 4.3.0 within seconds.
 * - Sentinel: only the primary is ever written (role check on connect,
 *   READONLY reconnects without resending); during a failover commands fail
 *   (451) until the sentinels name the new primary, then it recovers.
 * - Cluster: one connection per master, routed by key slot; MOVED/ASK are
 *   followed, a cluster that cannot serve the slot fails the command (451).
 */
export function createProducerConnection(
  target: RedisTarget,
  commandTimeout = 3000,
  onEnded?: ConnectionEndedHandler,
): RedisClient {
  const retry = (times: number) => Math.min(times * 100, 1000);
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout: 2000,
  };
  if (target.cluster) {
    return makeCluster(
      target.cluster.nodes,
      { ...options, retryStrategy: retry, reconnectOnError: reconnectOnReadonly(false) },
      { enableOfflineQueue: false, clusterRetryStrategy: retry },
    );
  }
  return make(target, options, retry, true, onEnded);
}

/**
 * The worker connection (bridgehead, admin): waits and reconnects forever, as
 * BullMQ workers require (maxRetriesPerRequest null). After a Sentinel
 * failover it reconnects to the new primary and resends what failed.
 * Neither connection stays ended unless closed (connection-supervisor.ts):
 * `onEnded` is told each time one is connected again.
 */
export function createWorkerConnection(
  target: RedisTarget,
  onEnded?: ConnectionEndedHandler,
): RedisClient {
  const retry = (times: number) => Math.min(times * 200, 2000);
  const options: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true };
  if (target.cluster) {
    return makeCluster(
      target.cluster.nodes,
      { ...options, retryStrategy: retry, reconnectOnError: reconnectOnReadonly(true) },
      { enableOfflineQueue: true, clusterRetryStrategy: retry },
    );
  }
  return make(target, options, retry, false, onEnded);
}

/**
 * Resolves once the connection is ready (a cluster has its slot map), or
 * after `timeoutMs` whatever its state: a fail-fast producer used before it
 * is ready answers 451 rather than waiting.
 */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.once('ready', onReady);
  });
}

/** Whether this connection is a Redis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
