import type { Job, Queue } from 'bullmq';
import { LOCAL_DELIVERY, type DeliveryJobData } from './delivery-job.js';
import type { MailQueue } from './mail-queue.js';
import { addressesOf, PAGE } from './message-state.js';
import { QueueOperationError } from './queue-operation-error.js';

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

const DEFAULT_REASON = 'deleted by an administrator';

/**
 * "Force connection" on a connector (its configured name): every delayed job
 * (schedule, retry interval, held) becomes due now, every parked (`failed`)
 * job is tried again (up to scanLimit per partition), new mail is not held by
 * the schedule for FORCE_WINDOW_MS, and the link state is forgotten so routing
 * and failover use the connector again. Returns how many jobs were promoted
 * and how many parked jobs retried.
 */
export async function retryConnector(
  queue: MailQueue,
  c: string,
  scanLimit: number,
): Promise<{ promoted: number; retried: number }> {
  await queue.forced.open(c, Date.now());
  let promoted = 0;
  let retried = 0;
  for (const q of queue.queues.all(c)) {
    const before = await q.getDelayedCount();
    await q.promoteJobs();
    promoted += before - (await q.getDelayedCount());
    // Collected first: a job parked again while we retry is left for the next retry now.
    const parked: Job<DeliveryJobData>[] = [];
    for (let start = 0; start < scanLimit; start += PAGE) {
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
      if (typeof job.data?.messageId === 'string') await queue.store.unpark(job.data.messageId);
    }
  }
  await queue.links.reset(c);
  return { promoted: Math.max(0, promoted), retried };
}

/**
 * Deletes a queued job of connector `c` and releases its body. With `dsn`, the
 * sender gets a non-delivery report for the job's recipients (after the job is
 * gone, so a job delivered meanwhile never gets a false report).
 */
export async function deleteJob(
  queue: MailQueue,
  sendDsn: ((job: DeliveryJobData, reason: string) => Promise<void>) | undefined,
  c: string,
  jobId: string,
  options: DeleteOptions,
): Promise<{ queueId: string; jobId: string; dsn: boolean }> {
  if (options.dsn && !sendDsn) {
    throw new QueueOperationError(
      'MAILBUS_ERR_DSN_NOT_WIRED',
      'DSN sending is not wired into this process (QueueOperations was built without sendDsn); delete without a DSN or use a node that sends DSNs',
    );
  }
  const { job } = await findJob(queue, c, jobId);
  await removeJob(c, job);
  const data = job.data;
  const reason = options.reason ?? DEFAULT_REASON;
  await queue.tracking.record(data.messageId, {
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
    await queue.store.release(data.messageId);
  }
  return { queueId: data.messageId, jobId: job.id ?? jobId, dsn: options.dsn };
}

/** Refuses a move from a connector to itself, or to or from `@local` (names already resolved). */
export function checkMoveEnds(from: string, to: string): void {
  if (from === to)
    throw new QueueOperationError('MAILBUS_ERR_BAD_MOVE', `cannot move from ${from} to itself`);
  if (from === LOCAL_DELIVERY || to === LOCAL_DELIVERY) {
    throw new QueueOperationError(
      'MAILBUS_ERR_BAD_MOVE',
      `${LOCAL_DELIVERY} delivers inbound domains to their mailbox hosts; its mail cannot move to or from a connector`,
    );
  }
}

/** Moves one job to another connector, to be delivered there under that connector's schedule. */
export async function moveOne(
  queue: MailQueue,
  from: string,
  jobId: string,
  to: string,
): Promise<MoveResult> {
  const { job } = await findJob(queue, from, jobId);
  return moveJob(queue, from, to, job);
}

/** Moves every job that is not being delivered right now from one connector to another. */
export async function moveAll(
  queue: MailQueue,
  from: string,
  to: string,
): Promise<{ moved: number; skipped: number }> {
  const seen = new Set<string>();
  let moved = 0;
  let skipped = 0;
  for (const q of queue.queues.all(from)) {
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
          await moveJob(queue, from, to, job);
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

async function findJob(
  queue: MailQueue,
  connector: string,
  jobId: string,
): Promise<{ job: Job<DeliveryJobData>; queue: Queue<DeliveryJobData> }> {
  if (jobId === '' || jobId.includes(':')) {
    throw new QueueOperationError(
      'MAILBUS_ERR_UNKNOWN_JOB',
      `no job "${jobId}" on connector ${connector}`,
    );
  }
  for (const q of queue.queues.all(connector)) {
    const job = (await q.getJob(jobId)) as Job<DeliveryJobData> | undefined;
    if (job?.data) return { job, queue: q };
  }
  throw new QueueOperationError(
    'MAILBUS_ERR_UNKNOWN_JOB',
    `no job "${jobId}" on connector ${connector}`,
  );
}

/** Removes a job unless a bridgehead holds it (BullMQ refuses to remove a locked job). */
async function removeJob(connector: string, job: Job<DeliveryJobData>): Promise<void> {
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
async function moveJob(
  queue: MailQueue,
  from: string,
  to: string,
  job: Job<DeliveryJobData>,
): Promise<MoveResult> {
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
  const delay = queue.dueIn(moved, now, await queue.forced.read([to], data.size));
  await queue.queues.add(to, moved, newId, delay);
  try {
    await removeJob(from, job);
  } catch (err) {
    await queue.queues.remove(to, data.messageId, newId);
    throw err;
  }
  await queue.tracking.record(data.messageId, {
    type: 'moved',
    connector: to,
    recipients: addressesOf(data),
    detail: `from ${from} by an administrator (job ${oldId} → ${newId})`,
  });
  return { queueId: data.messageId, from, to, oldJobId: oldId, newJobId: newId };
}
