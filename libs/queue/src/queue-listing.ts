import type { Job, Queue } from 'bullmq';
import type { DeliveryJobData } from './delivery-job.js';
import type { MailQueue } from './mail-queue.js';
import {
  addressesOf,
  MESSAGE_STATES,
  pages,
  PLACE_OF,
  stateOf,
  toJobPlace,
  TYPES_OF,
  type JobPlace,
  type MessageState,
} from './message-state.js';
import { QueueOperationError } from './queue-operation-error.js';
import { scanKeys } from './scan-keys.js';
import type { TrackingEvent } from './tracking-store.js';

/** One delivery job as the queue viewer shows it. */
export interface QueuedMessage {
  /** mailbus queue id (as in `mailbus track`). */
  queueId: string;
  /** BullMQ job id within the connector's queue. */
  jobId: string;
  connector: string;
  /** BullMQ queue name (partition). */
  queue: string;
  /** One of MESSAGE_STATES: the same word as the connector's depth and the metric. */
  state: MessageState;
  sender: string;
  recipients: string[];
  headerMessageId?: string;
  size: number;
  receivedAt: number;
  ageSeconds: number;
  /** Result of the last attempt (any connector), or null before the first. */
  lastError: string | null;
  lastAttemptAt: number | null;
  /** When a delayed job becomes due; null unless delayed. */
  nextAttemptAt: number | null;
  attempts: number;
  round: number;
  plan: string[];
  planIndex: number;
}

export interface ListMessagesOptions {
  state?: MessageState;
  limit?: number;
  offset?: number;
}

export interface MessageLookup {
  queueId: string;
  history: TrackingEvent[];
  /** Jobs of this message still in a queue, on any connector. */
  jobs: QueuedMessage[];
}

/** BullMQ packs a counter into the low 12 bits of a delayed job's score. */
const DELAYED_SCORE_SHIFT = 0x1000;

/** Messages of a connector (its configured name), by state (all states when none), oldest first within a state. */
export async function listMessages(
  queue: MailQueue,
  remoteTriggered: ReadonlySet<string>,
  c: string,
  options: ListMessagesOptions = {},
): Promise<QueuedMessage[]> {
  const limit = options.limit ?? 100;
  const offset = options.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new QueueOperationError(
      'MAILBUS_ERR_BAD_ARGUMENT',
      `limit must be an integer from 1 to 1000, not ${String(limit)}`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new QueueOperationError(
      'MAILBUS_ERR_BAD_ARGUMENT',
      `offset must be a non-negative integer, not ${String(offset)}`,
    );
  }
  if (options.state !== undefined && !MESSAGE_STATES.includes(options.state)) {
    throw new QueueOperationError(
      'MAILBUS_ERR_BAD_ARGUMENT',
      `unknown state "${String(options.state)}"; one of ${MESSAGE_STATES.join(', ')}`,
    );
  }
  const wanted = options.state;
  const places: readonly JobPlace[] = wanted
    ? [PLACE_OF[wanted]]
    : ['active', 'waiting', 'delayed', 'failed'];
  const now = Date.now();
  const out: QueuedMessage[] = [];
  let skip = offset;
  for (const place of places) {
    for (const q of queue.queues.all(c)) {
      // A page at a time: with a state filter, delayed jobs of other states are passed over.
      for await (const job of pages(q, TYPES_OF[place])) {
        if (wanted && stateOf(remoteTriggered, c, job, place) !== wanted) continue;
        if (skip > 0) {
          skip--;
          continue;
        }
        out.push(await describe(queue, remoteTriggered, c, q, job, place, now));
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}

/**
 * A message by queue id, Message-ID, sender or recipient: its tracking
 * history and the jobs it still has in any queue (of the connectors named).
 */
export async function lookUpMessage(
  queue: MailQueue,
  remoteTriggered: ReadonlySet<string>,
  names: readonly string[],
  term: string,
  now: number,
): Promise<MessageLookup[]> {
  const t = term.trim();
  if (t === '') throw new QueueOperationError('MAILBUS_ERR_UNKNOWN_MESSAGE', 'empty message id');
  let ids = await queue.tracking.find(t);
  if (ids.length === 0) ids = [t];
  const out: MessageLookup[] = [];
  for (const id of ids) {
    const [history, jobs] = await Promise.all([
      queue.tracking.history(id),
      jobsOf(queue, remoteTriggered, names, id, now),
    ]);
    if (history.length > 0 || jobs.length > 0) out.push({ queueId: id, history, jobs });
  }
  if (out.length === 0) {
    throw new QueueOperationError(
      'MAILBUS_ERR_UNKNOWN_MESSAGE',
      `no message found for "${t}" (queue id, Message-ID, sender or recipient)`,
    );
  }
  return out;
}

/** Every job of a queue id still in a queue: its job hashes, found by key pattern. */
async function jobsOf(
  queue: MailQueue,
  remoteTriggered: ReadonlySet<string>,
  names: readonly string[],
  id: string,
  now: number,
): Promise<QueuedMessage[]> {
  const prefix = queue.keys.prefix;
  const glob = (s: string): string => s.replace(/[*?[\]\\]/g, (m) => `\\${m}`);
  const pattern = `${glob(prefix)}:{*}:${glob(id)}.*`;
  const idRe = new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.\\d+m*$`);
  const found: Array<{ queueName: string; jobId: string }> = [];
  for await (const keys of scanKeys(queue.redis, pattern)) {
    for (const key of keys) {
      const rest = key.slice(prefix.length + 1);
      const m = /^(\{[^}]*\}):(.+)$/.exec(rest);
      if (m?.[1] && m[2] && idRe.test(m[2])) found.push({ queueName: m[1], jobId: m[2] });
    }
  }
  const out: QueuedMessage[] = [];
  for (const f of found) {
    const connector = queue.keys.connectorOfQueue(f.queueName);
    if (!connector || !names.includes(connector)) continue;
    const q = queue.queues.all(connector).find((x) => x.name === f.queueName);
    if (!q) continue;
    const job = (await q.getJob(f.jobId)) as Job<DeliveryJobData> | undefined;
    if (!job?.data) continue;
    const place = toJobPlace(await job.getState());
    if (!place) continue;
    out.push(await describe(queue, remoteTriggered, connector, q, job, place, now));
  }
  return out.sort((a, b) => a.jobId.localeCompare(b.jobId));
}

async function describe(
  queue: MailQueue,
  remoteTriggered: ReadonlySet<string>,
  connector: string,
  q: Queue<DeliveryJobData>,
  job: Job<DeliveryJobData>,
  place: JobPlace,
  now: number,
): Promise<QueuedMessage> {
  // A parked job may be a corrupt one: it is listed all the same, with what it has.
  const d = job.data;
  const attempts = Array.isArray(d.attempts) ? d.attempts : [];
  const last = attempts[attempts.length - 1];
  let next: number | null = null;
  const delayedKey = q.keys.delayed;
  if (place === 'delayed' && job.id && delayedKey) {
    const score = await queue.redis.zscore(delayedKey, job.id);
    next =
      score !== null ? Math.floor(Number(score) / DELAYED_SCORE_SHIFT) : job.timestamp + job.delay;
  }
  return {
    queueId: d.messageId,
    jobId: job.id ?? '',
    connector,
    queue: q.name,
    state: stateOf(remoteTriggered, connector, job, place),
    sender: d.sender,
    recipients: addressesOf(d),
    ...(d.headerMessageId ? { headerMessageId: d.headerMessageId } : {}),
    size: d.size,
    receivedAt: d.receivedAt,
    ageSeconds: Math.max(0, Math.round((now - d.receivedAt) / 1000)),
    // A parked job shows the unexpected error that parked it.
    lastError: (place === 'failed' ? job.failedReason : undefined) || (last?.result ?? null),
    lastAttemptAt: last?.at ?? null,
    nextAttemptAt: next,
    attempts: attempts.length,
    round: d.round,
    plan: Array.isArray(d.plan) ? d.plan : [],
    planIndex: d.planIndex,
  };
}
