import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';

export type TrackingEventType =
  | 'received'
  | 'routed'
  | 'queued'
  | 'attempt'
  | 'failover'
  | 'delivered'
  | 'deferred'
  | 'failed'
  | 'dsn'
  | 'expired'
  | 'deleted'
  | 'moved';

/** One event in the life of a message, as `mailbus track` prints it. */
export interface TrackingEvent {
  type: TrackingEventType;
  at: number;
  node: string;
  connector?: string;
  recipients?: string[];
  host?: string;
  reply?: string;
  detail?: string;
}

/**
 * trackEvent-1.lua
 * KEYS[1]  the message's tracking list
 * ARGV[1]  retention (ms)   ARGV[2] the event as JSON
 * Returns  1. XADD (capped near 1000 entries) and PEXPIRE in one atomic step.
 */
const TRACK_EVENT = `
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], -1000, -1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * indexAdd-1.lua
 * KEYS[1]  one tracking index (a sender, recipient or Message-ID): a string of
 *          space-separated queue ids (a one-member set cost ~400 bytes per
 *          message in Redis, the string ~150; most Message-IDs index one message)
 * ARGV[1]  retention (ms)   ARGV[2] the queue id
 * Returns  1. APPEND and PEXPIRE in one atomic step.
 */
const INDEX_ADD = `
redis.call('APPEND', KEYS[1], ARGV[2] .. ' ')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * Message tracking: every event of a message in a Redis list per message (a list, not a stream: a one-entry stream preallocates ~4.7 KB),
 * kept for a retention period, plus an index from Message-ID, sender and
 * recipient to queue ids.
 */
export class TrackingStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    private readonly node: string,
  ) {}

  /**
   * Records an event; never throws (tracking must not fail delivery).
   * Slot-safe: the list and each index set are different keys (different
   * Redis Cluster slots), so each is written by its own one-key script (the
   * write and its TTL together: no key without expiry; an EVAL, not a MULTI,
   * which costs ioredis a Pipeline each). They are sent together, not awaited
   * in turn; one failing does not stop the others.
   */
  async record(
    id: string,
    event: Omit<TrackingEvent, 'at' | 'node'> & { at?: number },
    index: readonly string[] = [],
  ): Promise<void> {
    const e: TrackingEvent = { ...event, at: event.at ?? Date.now(), node: this.node };
    const ttl = String(this.retentionMs);
    const writes: Array<Promise<unknown>> = [
      this.redis.eval(TRACK_EVENT, 1, this.keys.tracking(id), ttl, JSON.stringify(e)),
    ];
    for (const term of new Set(index.map((t) => t.toLowerCase()))) {
      writes.push(this.redis.eval(INDEX_ADD, 1, this.keys.trackingIndex(term), ttl, id));
    }
    // tracking is best effort
    await Promise.allSettled(writes);
  }

  /** Every event of a message, oldest first. */
  async history(id: string): Promise<TrackingEvent[]> {
    const rows = await this.redis.lrange(this.keys.tracking(id), 0, -1);
    return rows.map((row) => JSON.parse(row) as TrackingEvent);
  }

  /** Queue ids for a queue id, Message-ID, sender or recipient. */
  async find(term: string): Promise<string[]> {
    const direct = (await this.redis.exists(this.keys.tracking(term))) === 1 ? [term] : [];
    const ids = await this.redis.get(this.keys.trackingIndex(term.replace(/^<|>$/g, '')));
    const indexed = (ids ?? '').split(' ').filter((x) => x !== '');
    return [...new Set([...direct, ...indexed])].sort();
  }
}
