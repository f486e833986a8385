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
 * Message tracking: every event of a message in a Redis stream per message,
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
   * Slot-safe: the stream and each index set are different keys (different
   * Redis Cluster slots), so each gets its own MULTI (the write and its TTL
   * together: no key without expiry). They are sent together, not awaited in
   * turn; one failing does not stop the others.
   */
  async record(id: string, event: Omit<TrackingEvent, 'at' | 'node'> & { at?: number }, index: readonly string[] = []): Promise<void> {
    const e: TrackingEvent = { ...event, at: event.at ?? Date.now(), node: this.node };
    const key = this.keys.tracking(id);
    const writes: Array<Promise<unknown>> = [
      this.redis.multi().xadd(key, 'MAXLEN', '~', '1000', '*', 'e', JSON.stringify(e)).pexpire(key, this.retentionMs).exec(),
    ];
    for (const term of new Set(index.map((t) => t.toLowerCase()))) {
      const k = this.keys.trackingIndex(term);
      writes.push(this.redis.multi().sadd(k, id).pexpire(k, this.retentionMs).exec());
    }
    // tracking is best effort
    await Promise.allSettled(writes);
  }

  /** Every event of a message, oldest first. */
  async history(id: string): Promise<TrackingEvent[]> {
    const rows = await this.redis.xrange(this.keys.tracking(id), '-', '+');
    return rows.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as TrackingEvent);
  }

  /** Queue ids for a queue id, Message-ID, sender or recipient. */
  async find(term: string): Promise<string[]> {
    const direct = (await this.redis.exists(this.keys.tracking(term))) === 1 ? [term] : [];
    const indexed = await this.redis.smembers(this.keys.trackingIndex(term.replace(/^<|>$/g, '')));
    return [...new Set([...direct, ...indexed])].sort();
  }
}
