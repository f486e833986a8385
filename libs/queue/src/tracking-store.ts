import type { Keys } from './keys.js';
import { isCluster, type RedisClient } from './redis-connection.js';
import { runScript, type ScriptDef } from './scripts.js';

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
  | 'moved'
  | 'etrn'
  | 'atrn';

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
 * The Lua that writes tracking events and index entries, shared by the
 * tracking scripts below and the message store's scripts (the 'received'
 * event travels with the body, a job's closing events with its release).
 * Its arguments start at ARGV[at]: the retention (ms), the queue id, n, then
 * n events (JSON); it leaves in `rest` the index of the first argument after
 * them (see trackingArgs).
 * - KEYS[list] the message's tracking list: RPUSH the events, keep the newest
 *   1000, PEXPIRE the retention (only when n > 0);
 * - KEYS[firstIndex..] tracking indexes (a sender, recipient or Message-ID):
 *   strings of space-separated queue ids (a one-member set cost ~400 bytes
 *   per message in Redis, the string ~150; most Message-IDs index one
 *   message), APPEND the id and PEXPIRE.
 */
export function trackingLua(a: { list: number; firstIndex: number; at: number }): string {
  return `
local nEvents = tonumber(ARGV[${a.at + 2}])
local rest = ${a.at + 3} + nEvents
if nEvents > 0 then
  redis.call('RPUSH', KEYS[${a.list}], unpack(ARGV, ${a.at + 3}, rest - 1))
  redis.call('LTRIM', KEYS[${a.list}], -1000, -1)
  redis.call('PEXPIRE', KEYS[${a.list}], ARGV[${a.at}])
end
for i = ${a.firstIndex}, #KEYS do
  redis.call('APPEND', KEYS[i], ARGV[${a.at + 1}] .. ' ')
  redis.call('PEXPIRE', KEYS[i], ARGV[${a.at}])
end`;
}

/** The arguments trackingLua reads: retention, queue id, the number of events, the events. */
export function trackingArgs(
  id: string,
  events: readonly TrackingWrite[],
  retentionMs = events[0]?.retentionMs ?? 0,
): string[] {
  return [String(retentionMs), id, String(events.length), ...events.map((e) => e.event)];
}

/**
 * mailbusTrack
 * KEYS[1]  the message's tracking list   KEYS[2..] tracking indexes
 * ARGV     trackingArgs (the events may be none)
 * Returns  1.
 */
const TRACK: ScriptDef = {
  name: 'mailbusTrack',
  lua: `${trackingLua({ list: 1, firstIndex: 2, at: 1 })}
return 1`,
};

/** mailbusTrackIndex: KEYS[1..] tracking indexes only, ARGV trackingArgs with no event. */
const TRACK_INDEX: ScriptDef = {
  name: 'mailbusTrackIndex',
  lua: `${trackingLua({ list: 1, firstIndex: 1, at: 1 })}
return 1`,
};

/** One tracking write, ready to be sent alone or with another write of the same message. */
export interface TrackingWrite {
  /** The message's tracking list. */
  list: string;
  /** The event as stored (JSON). */
  event: string;
  /** Index keys (deduplicated). */
  indexes: string[];
  retentionMs: number;
}

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

  /** The writes of an event, for `record` or to send along with another write (MessageStore.put). */
  prepare(
    id: string,
    event: Omit<TrackingEvent, 'at' | 'node'> & { at?: number },
    index: readonly string[] = [],
  ): TrackingWrite {
    const e: TrackingEvent = { ...event, at: event.at ?? Date.now(), node: this.node };
    let indexes: string[] = [];
    if (index.length > 0) indexes = [...new Set(index.map((t) => this.keys.trackingIndex(t)))];
    return {
      list: this.keys.tracking(id),
      event: JSON.stringify(e),
      indexes,
      retentionMs: this.retentionMs,
    };
  }

  /**
   * Records an event; never throws (tracking must not fail delivery). One
   * script (EVALSHA) writes the event and its index entries with their TTLs
   * (no key without expiry). On a Redis Cluster the list and each index are
   * in different slots: one script per slot, sent together, one failing
   * does not stop the others.
   */
  async record(
    id: string,
    event: Omit<TrackingEvent, 'at' | 'node'> & { at?: number },
    index: readonly string[] = [],
  ): Promise<void> {
    await this.write(id, this.prepare(id, event, index)).catch(() => undefined);
  }

  /** Sends a prepared write (rejects on a Redis error). */
  async write(id: string, w: TrackingWrite): Promise<void> {
    if (!isCluster(this.redis) || w.indexes.length === 0) {
      await runScript(this.redis, TRACK, [w.list, ...w.indexes], trackingArgs(id, [w]));
      return;
    }
    const writes = [runScript(this.redis, TRACK, [w.list], trackingArgs(id, [w]))];
    writes.push(...this.indexWrites(id, w));
    const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The index entries of a write, one script per key (each its own Cluster slot). */
  indexWrites(id: string, w: TrackingWrite): Array<Promise<unknown>> {
    const args = trackingArgs(id, [], w.retentionMs);
    return w.indexes.map((k) => runScript(this.redis, TRACK_INDEX, [k], args));
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
