import type { Job, JobType, Queue } from 'bullmq';
import { LOCAL_DELIVERY, type DeliveryJobData } from './delivery-job.js';
import type { LinkStatus } from './link-state-store.js';
import type { MailQueue } from './mail-queue.js';
import { delayedState, pages, WAITING_TYPES, type MessageState } from './message-state.js';

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

/** Jobs (with data) of the given types, oldest first, up to scanLimit of each type. */
async function* scan(
  q: Queue<DeliveryJobData>,
  types: JobType[],
  scanLimit: number,
): AsyncGenerator<Job<DeliveryJobData>> {
  for await (const j of pages(q, types, scanLimit)) if (j.data) yield j;
}

/** Status and depth of one connector (its configured name), reading up to scanLimit jobs per state and partition. */
export async function connectorStatus(
  queue: MailQueue,
  remoteTriggered: ReadonlySet<string>,
  scanLimit: number,
  connector: string,
  now: number,
): Promise<ConnectorSummary> {
  const queues = queue.queues.all(connector);
  const remote = remoteTriggered.has(connector);
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
    for await (const job of scan(q, ['delayed'], scanLimit)) {
      scannedDelayed++;
      depth[delayedState(remoteTriggered, connector, job.data)]++;
      older(job.data.receivedAt);
    }
    const rest = n('delayed') - scannedDelayed;
    if (rest > 0) {
      partial = true;
      if (remote) depth.held += rest;
      else depth.delayed += rest;
    }
    let scannedWaiting = 0;
    for await (const job of scan(q, WAITING_TYPES, scanLimit)) {
      scannedWaiting++;
      older(job.data.receivedAt);
    }
    if (scannedWaiting < n('wait') + n('paused') + n('prioritized')) partial = true;
  }
  const link = await queue.links.status(connector, now);
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
