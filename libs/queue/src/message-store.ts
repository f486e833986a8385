import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';

/**
 * The body of each message, stored once, with its per-recipient delivery state
 * and a count of the jobs that still need it. Every key has a TTL past the
 * longest expireAfter, so a body whose jobs never made it into a queue (a
 * failed enqueue answered 451) cannot leak.
 */
/**
 * putMessage-1.lua
 * KEYS[1]  the message hash
 * ARGV[1]  TTL in ms; ARGV[2..] field, value pairs (body, refs, sender, …)
 * Returns  1. HSET and PEXPIRE in one atomic step.
 */
const PUT_MESSAGE = `
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

export class MessageStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlMs: number,
  ) {}

  /**
   * Queues the body write on the connection (pipelined with the job adds that
   * follow): one EVAL, not a MULTI, since ioredis builds a costly Pipeline per
   * multi() on a connection that carries BullMQ's scripts (bench/ profile).
   */
  put(id: string, body: Buffer, refs: number, meta: Record<string, string>): Promise<unknown> {
    const fields: Array<string | Buffer> = ['body', body, 'refs', String(refs)];
    for (const [k, v] of Object.entries(meta)) fields.push(k, v);
    return this.redis.eval(PUT_MESSAGE, 1, this.keys.message(id), String(this.ttlMs), ...fields);
  }

  async body(id: string): Promise<Buffer | null> {
    return this.redis.hgetBuffer(this.keys.message(id), 'body');
  }

  /** Recipients already delivered (a remote 250 was recorded). */
  async delivered(id: string, recipients: readonly string[]): Promise<Set<string>> {
    if (recipients.length === 0) return new Set();
    const vals = await this.redis.hmget(
      this.keys.message(id),
      ...recipients.map((r) => `d:${r.toLowerCase()}`),
    );
    return new Set(recipients.filter((_, i) => vals[i] !== null));
  }

  /** Records per-recipient success as soon as the remote 250 arrives. */
  async markDelivered(id: string, recipients: readonly string[], at: number): Promise<void> {
    if (recipients.length === 0) return;
    const fields: Record<string, string> = {};
    for (const r of recipients) fields[`d:${r.toLowerCase()}`] = String(at);
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

  /** A job is done with the body; the last one deletes it. */
  async release(id: string): Promise<void> {
    const key = this.keys.message(id);
    const left = await this.redis.hincrby(key, 'refs', -1);
    if (left <= 0) await this.redis.del(key);
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
