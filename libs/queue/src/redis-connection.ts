import { Redis, type RedisOptions } from 'ioredis';

export interface RedisTarget {
  url?: string;
  sentinel?: { name: string; sentinels: string[] };
}

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

function baseOptions(target: RedisTarget): { url?: string; options: RedisOptions } {
  if (target.sentinel) {
    return { options: { sentinels: target.sentinel.sentinels.map(hostPort), name: target.sentinel.name } };
  }
  return { url: target.url ?? 'redis://127.0.0.1:6379', options: {} };
}

function make(target: RedisTarget, extra: RedisOptions): Redis {
  const { url, options } = baseOptions(target);
  const client = url ? new Redis(url, { ...options, ...extra }) : new Redis({ ...options, ...extra });
  // Errors surface on commands; the connection-level event only needs a listener.
  client.on('error', () => undefined);
  return client;
}

/**
 * The producer connection (ingress): fails fast. With Redis down a command
 * errors at once (no offline queue) and a slow Redis times out after
 * `commandTimeout`, so the SMTP client gets 451 4.3.0 within seconds.
 */
export function createProducerConnection(target: RedisTarget, commandTimeout = 3000): Redis {
  return make(target, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
}

/**
 * The worker connection (bridgehead, admin): waits and reconnects forever, as
 * BullMQ workers require (maxRetriesPerRequest null).
 */
export function createWorkerConnection(target: RedisTarget): Redis {
  return make(target, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
