import type { Redis } from 'ioredis';
import type { Durability } from './check-redis-settings.js';

/** How long ingress waits for a replica or an fsync acknowledgement before answering 451 4.3.0. */
export const DURABILITY_WAIT_MS = 2000;

export interface DurabilityPolicy {
  durability: Durability;
  /** Wait timeout in milliseconds (default DURABILITY_WAIT_MS). */
  timeoutMs?: number;
  /** The connection's command timeout: the wait ends well before it, so Redis answers the WAIT itself. */
  commandTimeout?: number;
}

/** The reason a write is not durable yet: the caller answers 451 4.3.0 (fail toward temporary). */
export class DurabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurabilityError';
  }
}

interface ServerFacts {
  appendfsyncAlways: boolean;
  hasWaitAof: boolean;
}

const facts = new WeakMap<Redis, Promise<ServerFacts>>();

function serverFacts(redis: Redis): Promise<ServerFacts> {
  let f = facts.get(redis);
  if (!f) {
    f = (async () => {
      const info = await redis.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0.0.0';
      const [a = 0, b = 0] = version.split('.').map(Number);
      let fsync = '';
      try {
        fsync = ((await redis.call('CONFIG', 'GET', 'appendfsync')) as string[])[1] ?? '';
      } catch {
        // CONFIG may be renamed away (managed Redis): assume it is not "always"
      }
      return { appendfsyncAlways: fsync === 'always', hasWaitAof: a > 7 || (a === 7 && b >= 2) };
    })();
    // A failed probe (Redis down) is retried on the next message.
    f.catch(() => facts.delete(redis));
    facts.set(redis, f);
  }
  return f;
}

/**
 * Makes the writes already acknowledged on this connection durable to the
 * configured level (DESIGN "SMTP replies"): Redis orders the commands of one
 * connection, so a WAIT / WAITAOF sent after them covers them.
 * - `fsync`: nothing more with `appendfsync always` (Redis fsyncs before it
 *   replies); else `WAITAOF 1 0 <timeout>` (Redis >= 7.2) must report the
 *   local fsync; without WAITAOF it rejects.
 * - `replicated`: `WAIT 1 <timeout>` must report at least one replica.
 * - `memory`: nothing (unsafe: a Redis crash loses what it had not written).
 */
export async function waitDurable(redis: Redis, policy: DurabilityPolicy): Promise<void> {
  const limit =
    policy.commandTimeout !== undefined ? Math.floor(policy.commandTimeout * 0.75) : Infinity;
  const timeout = Math.max(1, Math.min(policy.timeoutMs ?? DURABILITY_WAIT_MS, limit));
  if (policy.durability === 'memory') return;
  if (policy.durability === 'replicated') {
    const n = Number(await redis.call('WAIT', '1', String(timeout)));
    if (!(n >= 1))
      throw new DurabilityError(
        `WAIT 1 ${timeout}: ${n} replicas acknowledged; the message is not durable`,
      );
    return;
  }
  const f = await serverFacts(redis);
  if (f.appendfsyncAlways) return;
  if (!f.hasWaitAof)
    throw new DurabilityError(
      'appendfsync is not "always" and this Redis has no WAITAOF: the message is not durable',
    );
  const r = (await redis.call('WAITAOF', '1', '0', String(timeout))) as unknown[];
  if (!(Number(r[0]) >= 1))
    throw new DurabilityError(`WAITAOF 1 0 ${timeout}: the local fsync was not acknowledged`);
}

/**
 * `Promise.allSettled(writes)`, then (only when every write succeeded) the
 * durability wait, settled as one more result: a failed wait goes down the
 * caller's cleanup path exactly like a failed write.
 */
export async function settleDurably(
  redis: Redis,
  policy: DurabilityPolicy,
  writes: Array<Promise<unknown>>,
): Promise<Array<PromiseSettledResult<unknown>>> {
  const results = await Promise.allSettled(writes);
  if (results.some((r) => r.status === 'rejected')) return results;
  const [wait] = await Promise.allSettled([waitDurable(redis, policy)]);
  return wait ? [...results, wait] : results;
}
