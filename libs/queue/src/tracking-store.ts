import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

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
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    private readonly node: string,
  ) {}

  /** Records an event; never throws (tracking must not fail delivery). */
  async record(id: string, event: Omit<TrackingEvent, 'at' | 'node'> & { at?: number }, index: readonly string[] = []): Promise<void> {
    const e: TrackingEvent = { ...event, at: event.at ?? Date.now(), node: this.node };
    const key = this.keys.tracking(id);
    const m = this.redis.multi().xadd(key, 'MAXLEN', '~', '1000', '*', 'e', JSON.stringify(e)).pexpire(key, this.retentionMs);
    for (const term of index) {
      const k = this.keys.trackingIndex(term);
      m.sadd(k, id).pexpire(k, this.retentionMs);
    }
    try {
      await m.exec();
    } catch {
      // tracking is best effort
    }
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
