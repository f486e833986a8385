import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';
import { runScript, type ScriptDef } from './scripts.js';
import { trackingArgs, trackingLua, type TrackingWrite } from './tracking-store.js';

/**
 * The body of each message, stored once, with its per-recipient delivery state
 * and a count of the jobs that still need it. Every key has a TTL past the
 * longest expireAfter, so a body whose jobs never made it into a queue (a
 * failed enqueue answered 451) cannot leak.
 */
/**
 * mailbusPutMessage
 * KEYS[1]  the message hash   KEYS[2] its tracking list (optional)   KEYS[3..] tracking indexes
 * ARGV[1]  TTL in ms   ARGV[2..] trackingArgs (the 'received' event, or none)
 * ARGV[rest..] field, value pairs (body, refs, …)
 * Returns  1. The body with its TTL and the event with its index entries, in
 * one atomic step.
 */
const PUT_MESSAGE: ScriptDef = {
  name: 'mailbusPutMessage',
  lua: `${trackingLua({ list: 2, firstIndex: 3, at: 2 })}
redis.call('HSET', KEYS[1], unpack(ARGV, rest))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`,
};

/**
 * mailbusRelease
 * KEYS[1]  the message hash   KEYS[2] its tracking list (when events are given)
 * ARGV[1..] trackingArgs (the job's closing events: attempt, delivered)
 * ARGV[rest..] delivered marks: field, value pairs
 * Returns  the jobs that still need the body: one job is done with it, the
 * last one deletes it. The job's last delivered marks and its closing
 * tracking events are written in the same step (the marks matter while
 * other jobs of the message still run).
 */
const RELEASE: ScriptDef = {
  name: 'mailbusRelease',
  lua: `${trackingLua({ list: 2, firstIndex: 3, at: 1 })}
if #ARGV > rest then redis.call('HSET', KEYS[1], unpack(ARGV, rest)) end
local left = redis.call('HINCRBY', KEYS[1], 'refs', -1)
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
`,
};

/** The hash field that marks a recipient delivered. */
const markField = (recipient: string) => `d:${recipient.toLowerCase()}`;

export class MessageStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlMs: number,
  ) {}

  /**
   * Queues the body write on the connection (pipelined with the job adds that
   * follow): one script, not a MULTI, since ioredis builds a costly Pipeline
   * per multi() on a connection that carries BullMQ's scripts (bench/
   * profile). With `tracking`, its event and indexes are written in the same
   * step: the caller passes indexes only when they share the connection's
   * one Redis (on a Cluster they live in other slots).
   */
  put(
    id: string,
    body: Buffer,
    refs: number,
    meta: Record<string, string>,
    tracking?: TrackingWrite,
  ): Promise<unknown> {
    const fields: Array<string | Buffer> = ['body', body, 'refs', String(refs)];
    for (const [k, v] of Object.entries(meta)) fields.push(k, v);
    const keys = [this.keys.message(id)];
    if (tracking) keys.push(tracking.list, ...tracking.indexes);
    return runScript(this.redis, PUT_MESSAGE, keys, [
      String(this.ttlMs),
      ...trackingArgs(id, tracking ? [tracking] : []),
      ...fields,
    ]);
  }

  /**
   * The body and the recipients already delivered (a remote 250 was
   * recorded), in one command. The body is null when the message is gone.
   */
  async bodyAndDelivered(
    id: string,
    recipients: readonly string[],
  ): Promise<{ body: Buffer | null; delivered: Set<string> }> {
    const vals = await this.redis.hmgetBuffer(
      this.keys.message(id),
      'body',
      ...recipients.map(markField),
    );
    return {
      body: vals[0] ?? null,
      delivered: new Set(recipients.filter((_, i) => vals[i + 1] !== null)),
    };
  }

  async body(id: string): Promise<Buffer | null> {
    return this.redis.hgetBuffer(this.keys.message(id), 'body');
  }

  /** Records per-recipient success as soon as the remote 250 arrives. */
  async markDelivered(id: string, recipients: readonly string[], at: number): Promise<void> {
    if (recipients.length === 0) return;
    const fields: Record<string, string> = {};
    for (const r of recipients) fields[markField(r)] = String(at);
    await this.redis.hset(this.keys.message(id), fields);
  }

  /** One more job needs the body (failover or retry job about to be added). */
  async retain(id: string, n = 1): Promise<void> {
    const key = this.keys.message(id);
    await this.redis
      .multi()
      .hincrby(key, 'refs', n)
      .pexpire(key, this.ttlMs)
      .exec()
      .then(assertExec);
  }

  /**
   * A job is done with the body; the last one deletes it. `closing` (the
   * job's last tracking events, without indexes) and the delivered marks of
   * `delivered` recipients are written in the same step.
   */
  async release(
    id: string,
    closing: readonly TrackingWrite[] = [],
    delivered: readonly string[] = [],
    at = Date.now(),
  ): Promise<void> {
    const keys = [this.keys.message(id)];
    const first = closing[0];
    if (first) keys.push(first.list);
    const marks: string[] = [];
    for (const r of delivered) marks.push(markField(r), String(at));
    await runScript(this.redis, RELEASE, keys, [...trackingArgs(id, closing), ...marks]);
  }

  /** A parked message's body stays until an operator retries, moves or deletes its job. */
  async park(id: string): Promise<void> {
    await this.redis.persist(this.keys.message(id));
  }

  /** A parked job is queued again: its body expires again like any queued body. */
  async unpark(id: string): Promise<void> {
    await this.redis.pexpire(this.keys.message(id), this.ttlMs);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.message(id))) === 1;
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.keys.message(id));
  }
}

type ExecResult = Array<[Error | null, unknown]> | null;

function assertExec(r: ExecResult): ExecResult {
  if (!r) throw new Error('Redis transaction aborted');
  for (const [err] of r) if (err) throw err;
  return r;
}
