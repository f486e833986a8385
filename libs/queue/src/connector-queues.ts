import { Queue, type JobsOptions } from 'bullmq';
import type { Keys } from './keys.js';
import type { DeliveryJobData } from './delivery-job.js';
import type { RedisClient } from './redis-connection.js';

/** Unexpected errors (a bug, a corrupt job) a job survives before it is parked `failed`. */
export const POISON_ATTEMPTS = 5;

/** The BullMQ backoff type of delivery jobs: the bridgehead's workers define it (poisonBackoff). */
export const POISON_BACKOFF = 'mailbus-poison';

/**
 * Options every delivery job gets: delivery results are steered by the
 * processor itself (delayed jobs, new jobs); only an unexpected error is
 * retried by BullMQ, a bounded number of times with a growing wait, and then
 * the job is parked in the `failed` state until an operator acts (it is never
 * removed on its own).
 */
export const DELIVERY_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: false,
  attempts: POISON_ATTEMPTS,
  backoff: { type: POISON_BACKOFF },
};

/** The wait before the next try after `attemptsMade` unexpected errors: base, 2×, 4×, … */
export function poisonBackoff(baseMs: number): (attemptsMade: number) => number {
  return (attemptsMade) => baseMs * 2 ** Math.max(0, attemptsMade - 1);
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * BullMQ queues of every connector (and its partitions), sharing one Redis
 * connection so that a body write and the job adds that follow it go out in
 * one pipeline, in order.
 */
export class ConnectorQueues {
  private readonly queues = new Map<string, Queue<DeliveryJobData>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly partitionsOf: (connector: string) => number = () => 1,
  ) {}

  /** The queue of a connector partition. */
  queue(connector: string, partition = 0): Queue<DeliveryJobData> {
    const name = this.keys.queueName(connector, partition);
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue<DeliveryJobData>(name, {
        connection: this.redis,
        prefix: this.keys.prefix,
        skipVersionCheck: true,
      });
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  /** Every partition queue of a connector. */
  all(connector: string): Queue<DeliveryJobData>[] {
    const n = this.partitionsOf(connector);
    return Array.from({ length: n }, (_, p) => this.queue(connector, p));
  }

  /** The partition a message goes to: stable per message id. */
  partitionFor(connector: string, messageId: string): number {
    const n = this.partitionsOf(connector);
    return n <= 1 ? 0 : hash(messageId) % n;
  }

  /** Adds a delivery job; `jobId` makes the add idempotent. */
  add(connector: string, data: DeliveryJobData, jobId: string, delay = 0): Promise<unknown> {
    const q = this.queue(connector, this.partitionFor(connector, data.messageId));
    return q.add('deliver', data, {
      ...DELIVERY_JOB_OPTIONS,
      jobId,
      delay: Math.max(0, Math.round(delay)),
    });
  }

  /** Removes a job by id from a connector (cleanup after a failed enqueue). */
  async remove(connector: string, messageId: string, jobId: string): Promise<void> {
    const q = this.queue(connector, this.partitionFor(connector, messageId));
    await q.remove(jobId).catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.queues.clear();
  }
}
