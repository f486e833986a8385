import type { Job, JobType, Queue } from 'bullmq';
import { LOCAL_DELIVERY, type DeliveryJobData } from './delivery-job.js';
import type { LinkStatus } from './link-state-store.js';
import type { MailQueue } from './mail-queue.js';
import { organizationStatus, siteGroup, type OrganizationStatus } from './organization-status.js';
import { scanKeys } from './scan-keys.js';
import type { TrackingEvent } from './tracking-store.js';

/**
 * Stable codes of operator errors (REST API and CLI). Each is documented in
 * docs/admin.md.
 */
export const QUEUE_OPERATION_ERROR_CODES = [
  'MAILBUS_ERR_UNKNOWN_CONNECTOR',
  'MAILBUS_ERR_UNKNOWN_JOB',
  'MAILBUS_ERR_UNKNOWN_MESSAGE',
  'MAILBUS_ERR_BAD_ARGUMENT',
  'MAILBUS_ERR_BAD_MOVE',
  'MAILBUS_ERR_JOB_ACTIVE',
  'MAILBUS_ERR_DSN_NOT_WIRED',
  'MAILBUS_ERR_DSN_FAILED',
] as const;

export type QueueOperationErrorCode = (typeof QUEUE_OPERATION_ERROR_CODES)[number];

/**
 * An operator action that cannot be done as asked: unknown connector or job,
 * a bad argument, a job being delivered right now. Kept in this file so the
 * operations and their failure codes read together.
 */
export class QueueOperationError extends Error {
  constructor(
    readonly code: QueueOperationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueueOperationError';
  }
}

/**
 * The state of a queued message: one name per state, the same as a connector's
 * depth fields and the `mailbus_queue_depth` metric's `state` label. `waiting`
 * includes paused (frozen) and prioritized jobs; `delayed`, `retrying` and
 * `held` are BullMQ's delayed jobs, told apart by why they wait.
 */
export const MESSAGE_STATES = [
  'waiting',
  'delayed',
  'retrying',
  'held',
  'active',
  'failed',
] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

/** Where BullMQ keeps a job: the four places a message state is read from. */
type JobPlace = 'waiting' | 'delayed' | 'active' | 'failed';

/** Jobs of one connector, summed over its partitions (a field per message state). */
export interface ConnectorDepth extends Record<MessageState, number> {
  /** Ready to deliver (or frozen): BullMQ wait, paused and prioritized. */
  waiting: number;
  /** Delayed until the delivery (or oversize) schedule opens. */
  delayed: number;
  /** Delayed for a retry interval after every candidate failed (`round > 0`). */
  retrying: number;
  /** Delayed on a remote-triggered connector: held until the remote asks (ETRN) or retry now. */
  held: number;
  /** Being delivered now. */
  active: number;
  /** Parked after unexpected errors: kept until an operator retries, moves or deletes it. */
  failed: number;
}

export interface ConnectorSummary {
  name: string;
  /** The internal queue of inbound domains' mailbox hosts (`@local`), not a configured connector. */
  local: boolean;
  /** BullMQ queue names of its partitions. */
  queues: string[];
  link: Omit<LinkStatus, 'connector'>;
  /** Delivery stopped by an operator (BullMQ queue paused); mail keeps queueing. */
  frozen: boolean;
  remoteTriggered: boolean;
  depth: ConnectorDepth;
  /** receivedAt of the oldest waiting or delayed message; null when none. */
  oldestReceivedAt: number | null;
  oldestAgeSeconds: number | null;
  /**
   * True when a queue held more jobs than `scanLimit`: the delayed split and
   * the oldest age then come from the first `scanLimit` jobs of each state
   * (the unscanned rest counted as delayed by schedule, or held).
   */
  partial: boolean;
}

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

export interface DeleteOptions {
  /** Send a non-delivery report to the sender (Exchange "Delete with NDR"). */
  dsn: boolean;
  /** Text for the DSN and the tracking event; default "deleted by an administrator". */
  reason?: string;
}

export interface MoveResult {
  queueId: string;
  from: string;
  to: string;
  oldJobId: string;
  newJobId: string;
}

export interface QueueOperationsOptions {
  /** The routing group of this site (routing groups as sites); default: siteGroup of the queue's Redis. */
  routingGroup?: string;
  /** Sends a DSN for the recipients of a deleted job; without it, delete with DSN is refused. */
  sendDsn?: (job: DeliveryJobData, reason: string) => Promise<void>;
  /** Jobs read per state and partition to split delayed jobs and find the oldest (default 10,000). */
  scanLimit?: number;
}

const WAITING_TYPES: JobType[] = ['wait', 'paused', 'prioritized'];
const TYPES_OF: Record<JobPlace, JobType[]> = {
  waiting: WAITING_TYPES,
  delayed: ['delayed'],
  active: ['active'],
  failed: ['failed'],
};
/** Where each message state is read from. */
const PLACE_OF: Record<MessageState, JobPlace> = {
  waiting: 'waiting',
  delayed: 'delayed',
  retrying: 'delayed',
  held: 'delayed',
  active: 'active',
  failed: 'failed',
};
/** BullMQ packs a counter into the low 12 bits of a delayed job's score. */
const DELAYED_SCORE_SHIFT = 0x1000;
const PAGE = 500;
const DEFAULT_REASON = 'deleted by an administrator';

/**
 * Every operator action on the queues, on Redis only, so that the REST API
 * and the CLI do exactly the same thing from any node: connector status and
 * depth, freeze / unfreeze, retry now, list, delete (with or without DSN) and
 * move messages, look a message up.
 */

export class QueueOperations {
  private readonly scanLimit: number;
  private readonly remoteTriggered: Set<string>;

  constructor(
    private readonly queue: MailQueue,
    private readonly options: QueueOperationsOptions = {},
  ) {
    this.scanLimit = options.scanLimit ?? 10_000;
    this.remoteTriggered = new Set(
      queue.config.connectors.filter((c) => c.delivery.remoteTriggered).map((c) => c.name),
    );
  }

  /** Connector names in config order, then `@local`. */
  names(): string[] {
    return this.queue.connectorNames();
  }

  /** The configured spelling of a connector name (case-insensitive), or MAILBUS_ERR_UNKNOWN_CONNECTOR. */
  resolve(connector: string): string {
    const found = this.names().find((n) => n.toLowerCase() === connector.toLowerCase());
    if (!found) {
      throw new QueueOperationError(
        'MAILBUS_ERR_UNKNOWN_CONNECTOR',
        `unknown connector "${connector}"; known: ${this.names().join(', ')}`,
      );
    }
    return found;
  }

  /** Every partition queue of every connector (for Bull Board). */
  allQueues(): Queue<DeliveryJobData>[] {
    return this.names().flatMap((n) => this.queue.queues.all(n));
  }

  /** Status and depth of every connector, in config order, `@local` last. */
  async connectors(now: number): Promise<ConnectorSummary[]> {
    return Promise.all(this.names().map((n) => this.connector(n, now)));
  }

  /**
   * With routing groups as sites: every connector of the organisation grouped
   * by routing group, as this site sees it (organizationStatus); undefined otherwise.
   */
  async organization(now: number): Promise<OrganizationStatus | undefined> {
    const config = this.queue.config;
    const here = this.options.routingGroup ?? siteGroup(config, undefined, config.redis.url);
    return organizationStatus(config, this.queue, this, here, now);
  }

  /** Status and depth of one connector. */
  async connector(name: string, now: number): Promise<ConnectorSummary> {
    const connector = this.resolve(name);
    const queues = this.queue.queues.all(connector);
    const remote = this.remoteTriggered.has(connector);
    const depth: ConnectorDepth = {
      waiting: 0,
      delayed: 0,
      retrying: 0,
      held: 0,
      active: 0,
      failed: 0,
    };
    let oldest: number | null = null;
    let partial = false;
    let frozen = false;
    const older = (t: number): void => {
      if (oldest === null || t < oldest) oldest = t;
    };
    for (const q of queues) {
      const [counts, paused] = await Promise.all([
        q.getJobCounts('wait', 'paused', 'prioritized', 'delayed', 'active', 'failed'),
        q.isPaused(),
      ]);
      frozen ||= paused;
      const n = (t: string): number => counts[t] ?? 0;
      depth.waiting += n('wait') + n('paused') + n('prioritized');
      depth.active += n('active');
      depth.failed += n('failed');

      let scannedDelayed = 0;
      for await (const job of this.scan(q, ['delayed'])) {
        scannedDelayed++;
        depth[this.delayedState(connector, job.data)]++;
        older(job.data.receivedAt);
      }
      const rest = n('delayed') - scannedDelayed;
      if (rest > 0) {
        partial = true;
        if (remote) depth.held += rest;
        else depth.delayed += rest;
      }
      let scannedWaiting = 0;
      for await (const job of this.scan(q, WAITING_TYPES)) {
        scannedWaiting++;
        older(job.data.receivedAt);
      }
      if (scannedWaiting < n('wait') + n('paused') + n('prioritized')) partial = true;
    }
    const link = await this.queue.links.status(connector, now);
    const { connector: _c, ...linkState } = link;
    const oldestAt: number | null = oldest;
    return {
      name: connector,
      local: connector === LOCAL_DELIVERY,
      queues: queues.map((q) => q.name),
      link: linkState,
      frozen,
      remoteTriggered: remote,
      depth,
      oldestReceivedAt: oldestAt,
      oldestAgeSeconds: oldestAt === null ? null : Math.max(0, Math.round((now - oldestAt) / 1000)),
      partial,
    };
  }

  /** Stops delivery from a connector on every node (pauses every partition); mail keeps queueing. */
  async freeze(connector: string): Promise<void> {
    const c = this.resolve(connector);
    await Promise.all(this.queue.queues.all(c).map((q) => q.pause()));
  }

  /** Resumes delivery from a frozen connector. */
  async unfreeze(connector: string): Promise<void> {
    const c = this.resolve(connector);
    await Promise.all(this.queue.queues.all(c).map((q) => q.resume()));
  }

  /**
   * "Force connection": every delayed job of the connector (schedule, retry
   * interval, held) becomes due now, every parked (`failed`) job is tried
   * again, new mail is not held by the schedule for FORCE_WINDOW_MS, and the
   * link state is forgotten so routing and failover use the connector again.
   * Returns how many jobs were promoted and how many parked jobs retried.
   */
  async retryNow(connector: string): Promise<{ promoted: number; retried: number }> {
    const c = this.resolve(connector);
    await this.queue.forced.open(c, Date.now());
    let promoted = 0;
    let retried = 0;
    for (const q of this.queue.queues.all(c)) {
      const before = await q.getDelayedCount();
      await q.promoteJobs();
      promoted += before - (await q.getDelayedCount());
      // Collected first: a job parked again while we retry is left for the next retry now.
      const parked: Job<DeliveryJobData>[] = [];
      for (let start = 0; start < this.scanLimit; start += PAGE) {
        const page = (await q.getFailed(start, start + PAGE - 1)) as Job<DeliveryJobData>[];
        parked.push(...page);
        if (page.length < PAGE) break;
      }
      for (const job of parked) {
        // A job deleted or retried by someone else meanwhile is not an error.
        const ok = await job.retry('failed', { resetAttemptsMade: true }).then(
          () => true,
          () => false,
        );
        if (!ok) continue;
        retried++;
        if (typeof job.data?.messageId === 'string')
          await this.queue.store.unpark(job.data.messageId);
      }
    }
    await this.queue.links.reset(c);
    return { promoted: Math.max(0, promoted), retried };
  }

  /** Messages of a connector, by state (all states when none), oldest first within a state. */
  async listMessages(
    connector: string,
    options: ListMessagesOptions = {},
  ): Promise<QueuedMessage[]> {
    const c = this.resolve(connector);
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
      for (const q of this.queue.queues.all(c)) {
        // A page at a time: with a state filter, delayed jobs of other states are passed over.
        for await (const job of pages(q, TYPES_OF[place])) {
          if (wanted && this.stateOf(c, job, place) !== wanted) continue;
          if (skip > 0) {
            skip--;
            continue;
          }
          out.push(await this.describe(c, q, job, place, now));
          if (out.length >= limit) return out;
        }
      }
    }
    return out;
  }

  /**
   * Deletes a queued job and releases its body. With `dsn`, the sender gets a
   * non-delivery report for the job's recipients (after the job is gone, so a
   * job delivered meanwhile never gets a false report).
   */
  async deleteMessage(
    connector: string,
    jobId: string,
    options: DeleteOptions,
  ): Promise<{ queueId: string; jobId: string; dsn: boolean }> {
    const c = this.resolve(connector);
    const sendDsn = this.options.sendDsn;
    if (options.dsn && !sendDsn) {
      throw new QueueOperationError(
        'MAILBUS_ERR_DSN_NOT_WIRED',
        'DSN sending is not wired into this process (QueueOperations was built without sendDsn); delete without a DSN or use a node that sends DSNs',
      );
    }
    const { job } = await this.findJob(c, jobId);
    await this.removeJob(c, job);
    const data = job.data;
    const reason = options.reason ?? DEFAULT_REASON;
    await this.queue.tracking.record(data.messageId, {
      type: 'deleted',
      connector: c,
      recipients: addressesOf(data),
      detail: `${reason}${options.dsn ? ', DSN sent' : ', no DSN'}`,
    });
    try {
      // Built while the body is still stored: the DSN returns the message.
      if (options.dsn && sendDsn) await sendDsn(data, reason);
    } catch (err) {
      throw new QueueOperationError(
        'MAILBUS_ERR_DSN_FAILED',
        `job ${jobId} was deleted but its DSN could not be sent: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      await this.queue.store.release(data.messageId);
    }
    return { queueId: data.messageId, jobId: job.id ?? jobId, dsn: options.dsn };
  }

  /** Moves one job to another connector, to be delivered there under that connector's schedule. */
  async moveMessage(
    fromConnector: string,
    jobId: string,
    toConnector: string,
  ): Promise<MoveResult> {
    const [from, to] = this.moveEnds(fromConnector, toConnector);
    const { job } = await this.findJob(from, jobId);
    return this.moveJob(from, to, job);
  }

  /** Moves every job that is not being delivered right now from one connector to another. */
  async moveQueue(
    fromConnector: string,
    toConnector: string,
  ): Promise<{ moved: number; skipped: number }> {
    const [from, to] = this.moveEnds(fromConnector, toConnector);
    const seen = new Set<string>();
    let moved = 0;
    let skipped = 0;
    for (const q of this.queue.queues.all(from)) {
      for (;;) {
        const batch = (await q.getJobs(
          ['wait', 'paused', 'prioritized', 'delayed', 'failed'],
          0,
          PAGE - 1,
          true,
        )) as Job<DeliveryJobData>[];
        const fresh = batch.filter((j) => j.id !== undefined && !seen.has(j.id));
        if (fresh.length === 0) break;
        for (const job of fresh) {
          seen.add(job.id as string);
          try {
            await this.moveJob(from, to, job);
            moved++;
          } catch (err) {
            if (
              err instanceof QueueOperationError &&
              (err.code === 'MAILBUS_ERR_JOB_ACTIVE' || err.code === 'MAILBUS_ERR_UNKNOWN_JOB')
            )
              skipped++;
            else throw err;
          }
        }
      }
    }
    return { moved, skipped };
  }

  /**
   * A message by queue id, Message-ID, sender or recipient: its tracking
   * history and the jobs it still has in any queue.
   */
  async message(term: string, now = Date.now()): Promise<MessageLookup[]> {
    const t = term.trim();
    if (t === '') throw new QueueOperationError('MAILBUS_ERR_UNKNOWN_MESSAGE', 'empty message id');
    let ids = await this.queue.tracking.find(t);
    if (ids.length === 0) ids = [t];
    const out: MessageLookup[] = [];
    for (const id of ids) {
      const [history, jobs] = await Promise.all([
        this.queue.tracking.history(id),
        this.jobsOf(id, now),
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

  /** A job's message state, from where BullMQ keeps it (and, when delayed, why it waits). */
  private stateOf(connector: string, job: Job<DeliveryJobData>, place: JobPlace): MessageState {
    return place === 'delayed' ? this.delayedState(connector, job.data) : place;
  }

  /**
   * Why a delayed job waits: held for ETRN, a retry interval (it went round all its candidates:
   * `round > 0`), or a closed (oversize) schedule. A message that failed over to a connector
   * whose schedule is closed waits for that schedule: `delayed`, although attempts were made.
   */
  private delayedState(connector: string, data: DeliveryJobData): 'delayed' | 'retrying' | 'held' {
    if (this.remoteTriggered.has(connector)) return 'held';
    return (data?.round ?? 0) > 0 ? 'retrying' : 'delayed';
  }

  /** Jobs (with data) of the given types, oldest first, up to scanLimit of each type. */
  private async *scan(
    q: Queue<DeliveryJobData>,
    types: JobType[],
  ): AsyncGenerator<Job<DeliveryJobData>> {
    for await (const j of pages(q, types, this.scanLimit)) if (j.data) yield j;
  }

  private moveEnds(fromConnector: string, toConnector: string): [string, string] {
    const from = this.resolve(fromConnector);
    const to = this.resolve(toConnector);
    if (from === to)
      throw new QueueOperationError('MAILBUS_ERR_BAD_MOVE', `cannot move from ${from} to itself`);
    if (from === LOCAL_DELIVERY || to === LOCAL_DELIVERY) {
      throw new QueueOperationError(
        'MAILBUS_ERR_BAD_MOVE',
        `${LOCAL_DELIVERY} delivers inbound domains to their mailbox hosts; its mail cannot move to or from a connector`,
      );
    }
    return [from, to];
  }

  private async findJob(
    connector: string,
    jobId: string,
  ): Promise<{ job: Job<DeliveryJobData>; queue: Queue<DeliveryJobData> }> {
    if (jobId === '' || jobId.includes(':')) {
      throw new QueueOperationError(
        'MAILBUS_ERR_UNKNOWN_JOB',
        `no job "${jobId}" on connector ${connector}`,
      );
    }
    for (const q of this.queue.queues.all(connector)) {
      const job = (await q.getJob(jobId)) as Job<DeliveryJobData> | undefined;
      if (job?.data) return { job, queue: q };
    }
    throw new QueueOperationError(
      'MAILBUS_ERR_UNKNOWN_JOB',
      `no job "${jobId}" on connector ${connector}`,
    );
  }

  /** Removes a job unless a bridgehead holds it (BullMQ refuses to remove a locked job). */
  private async removeJob(connector: string, job: Job<DeliveryJobData>): Promise<void> {
    const state = await job.getState();
    if (state === 'active') {
      throw new QueueOperationError(
        'MAILBUS_ERR_JOB_ACTIVE',
        `job ${job.id ?? ''} on ${connector} is being delivered now; try again in a moment`,
      );
    }
    if (state === 'unknown' || state === 'completed') {
      throw new QueueOperationError(
        'MAILBUS_ERR_UNKNOWN_JOB',
        `job ${job.id ?? ''} is no longer queued on ${connector}`,
      );
    }
    try {
      await job.remove();
    } catch {
      throw new QueueOperationError(
        'MAILBUS_ERR_JOB_ACTIVE',
        `job ${job.id ?? ''} on ${connector} is being delivered now; try again in a moment`,
      );
    }
  }

  /** Adds the job on the target first, then removes the original: a failure in between never loses it. */
  private async moveJob(from: string, to: string, job: Job<DeliveryJobData>): Promise<MoveResult> {
    const oldId = job.id ?? '';
    const state = await job.getState();
    if (state === 'active') {
      throw new QueueOperationError(
        'MAILBUS_ERR_JOB_ACTIVE',
        `job ${oldId} on ${from} is being delivered now; try again in a moment`,
      );
    }
    if (state === 'unknown' || state === 'completed') {
      throw new QueueOperationError(
        'MAILBUS_ERR_UNKNOWN_JOB',
        `job ${oldId} is no longer queued on ${from}`,
      );
    }
    const data = job.data;
    // The target becomes the first choice; the message keeps its other candidates after it.
    const plan = [to, ...data.plan.filter((c) => c !== to)];
    const moved: DeliveryJobData = { ...data, plan, planIndex: 0 };
    const newId = `${oldId}m`;
    const now = Date.now();
    const delay = this.queue.dueIn(moved, now, await this.queue.forced.read([to], data.size));
    await this.queue.queues.add(to, moved, newId, delay);
    try {
      await this.removeJob(from, job);
    } catch (err) {
      await this.queue.queues.remove(to, data.messageId, newId);
      throw err;
    }
    await this.queue.tracking.record(data.messageId, {
      type: 'moved',
      connector: to,
      recipients: addressesOf(data),
      detail: `from ${from} by an administrator (job ${oldId} → ${newId})`,
    });
    return { queueId: data.messageId, from, to, oldJobId: oldId, newJobId: newId };
  }

  /** Every job of a queue id still in a queue: its job hashes, found by key pattern. */
  private async jobsOf(id: string, now: number): Promise<QueuedMessage[]> {
    const prefix = this.queue.keys.prefix;
    const glob = (s: string): string => s.replace(/[*?[\]\\]/g, (m) => `\\${m}`);
    const pattern = `${glob(prefix)}:{*}:${glob(id)}.*`;
    const idRe = new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.\\d+m*$`);
    const found: Array<{ queueName: string; jobId: string }> = [];
    for await (const keys of scanKeys(this.queue.redis, pattern)) {
      for (const key of keys) {
        const rest = key.slice(prefix.length + 1);
        const m = /^(\{[^}]*\}):(.+)$/.exec(rest);
        if (m?.[1] && m[2] && idRe.test(m[2])) found.push({ queueName: m[1], jobId: m[2] });
      }
    }
    const out: QueuedMessage[] = [];
    for (const f of found) {
      const connector = this.queue.keys.connectorOfQueue(f.queueName);
      if (!connector || !this.names().includes(connector)) continue;
      const q = this.queue.queues.all(connector).find((x) => x.name === f.queueName);
      if (!q) continue;
      const job = (await q.getJob(f.jobId)) as Job<DeliveryJobData> | undefined;
      if (!job?.data) continue;
      const place = toJobPlace(await job.getState());
      if (!place) continue;
      out.push(await this.describe(connector, q, job, place, now));
    }
    return out.sort((a, b) => a.jobId.localeCompare(b.jobId));
  }

  private async describe(
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
      const score = await this.queue.redis.zscore(delayedKey, job.id);
      next =
        score !== null
          ? Math.floor(Number(score) / DELAYED_SCORE_SHIFT)
          : job.timestamp + job.delay;
    }
    return {
      queueId: d.messageId,
      jobId: job.id ?? '',
      connector,
      queue: q.name,
      state: this.stateOf(connector, job, place),
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
}

/** The recipient addresses of a job; none for a corrupt job without a list. */
function addressesOf(data: DeliveryJobData): string[] {
  const rs: unknown = data.recipients;
  return Array.isArray(rs) ? rs.map((r: { address?: unknown } | null) => String(r?.address)) : [];
}

/** Jobs of the given types, oldest first, a page at a time, up to `limit` of each type (corrupt ones too). */
async function* pages(
  q: Queue<DeliveryJobData>,
  types: JobType[],
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<Job<DeliveryJobData>> {
  for (const type of types) {
    for (let start = 0; start < limit; start += PAGE) {
      const end = Math.min(start + PAGE, limit) - 1;
      const jobs = (await q.getJobs([type], start, end, true)) as Job<DeliveryJobData>[];
      for (const j of jobs) if (j) yield j;
      if (jobs.length < end - start + 1) break;
    }
  }
}

function toJobPlace(s: string): JobPlace | undefined {
  if (s === 'waiting' || s === 'wait' || s === 'paused' || s === 'prioritized') return 'waiting';
  if (s === 'delayed' || s === 'active' || s === 'failed') return s;
  return undefined;
}
