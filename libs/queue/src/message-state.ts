import type { Job, JobType, Queue } from 'bullmq';
import type { DeliveryJobData } from './delivery-job.js';

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
export type JobPlace = 'waiting' | 'delayed' | 'active' | 'failed';

export const WAITING_TYPES: JobType[] = ['wait', 'paused', 'prioritized'];
export const TYPES_OF: Record<JobPlace, JobType[]> = {
  waiting: WAITING_TYPES,
  delayed: ['delayed'],
  active: ['active'],
  failed: ['failed'],
};
/** Where each message state is read from. */
export const PLACE_OF: Record<MessageState, JobPlace> = {
  waiting: 'waiting',
  delayed: 'delayed',
  retrying: 'delayed',
  held: 'delayed',
  active: 'active',
  failed: 'failed',
};
export const PAGE = 500;

/** A job's message state, from where BullMQ keeps it (and, when delayed, why it waits). */
export function stateOf(
  remoteTriggered: ReadonlySet<string>,
  connector: string,
  job: Job<DeliveryJobData>,
  place: JobPlace,
): MessageState {
  return place === 'delayed' ? delayedState(remoteTriggered, connector, job.data) : place;
}

/**
 * Why a delayed job waits: held for ETRN, a retry interval (it went round all its candidates:
 * `round > 0`), or a closed (oversize) schedule. A message that failed over to a connector
 * whose schedule is closed waits for that schedule: `delayed`, although attempts were made.
 */
export function delayedState(
  remoteTriggered: ReadonlySet<string>,
  connector: string,
  data: DeliveryJobData,
): 'delayed' | 'retrying' | 'held' {
  if (remoteTriggered.has(connector)) return 'held';
  return (data?.round ?? 0) > 0 ? 'retrying' : 'delayed';
}

/** The recipient addresses of a job; none for a corrupt job without a list. */
export function addressesOf(data: DeliveryJobData): string[] {
  const rs: unknown = data.recipients;
  return Array.isArray(rs) ? rs.map((r: { address?: unknown } | null) => String(r?.address)) : [];
}

/** Jobs of the given types, oldest first, a page at a time, up to `limit` of each type (corrupt ones too). */
export async function* pages(
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

export function toJobPlace(s: string): JobPlace | undefined {
  if (s === 'waiting' || s === 'wait' || s === 'paused' || s === 'prioritized') return 'waiting';
  if (s === 'delayed' || s === 'active' || s === 'failed') return s;
  return undefined;
}
