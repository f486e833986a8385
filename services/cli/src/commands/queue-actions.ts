import {
  MESSAGE_STATES,
  QueueOperationError,
  type MessageState,
  type QueueOperations,
  type QueuedMessage,
} from '@mailbus/queue';
import { plural } from '../plural.js';
import { UsageError } from '../usage-error.js';

export function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/** One line of `mailbus queue list`. */
export function formatMessage(m: QueuedMessage, withConnector: boolean): string {
  return (
    `${withConnector ? `${m.connector.padEnd(16)} ` : ''}${m.jobId.padEnd(24)} ${m.state} from <${m.sender}> to ${m.recipients.join(',')} ${m.size}B age ${age(m.ageSeconds)}` +
    `${m.nextAttemptAt ? ` next ${new Date(m.nextAttemptAt).toISOString()}` : ''}${m.lastError ? ` last error: ${m.lastError}` : ''}`
  );
}

export interface ListFlags {
  state?: string;
  limit?: string;
  offset?: string;
}

function count(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a whole number, not "${v}"`);
  return n;
}

/**
 * `queue list [CONNECTOR]`: one connector's messages, or, without one, every
 * connector's in config order (`@local` last), as Postfix's mailq lists the
 * whole queue. --limit and --offset then apply to that whole list.
 */
/** The list flags, checked before anything connects (a mistake in them is a usage error). */
export function checkListFlags(flags: ListFlags): void {
  if (flags.state && !MESSAGE_STATES.includes(flags.state as MessageState))
    throw new UsageError(`--state must be one of ${MESSAGE_STATES.join(', ')}`);
  count(flags.limit, '--limit');
  count(flags.offset, '--offset');
}

export async function listMessages(
  ops: QueueOperations,
  connector: string | undefined,
  flags: ListFlags,
): Promise<QueuedMessage[]> {
  checkListFlags(flags);
  const state = flags.state as MessageState | undefined;
  const limit = count(flags.limit, '--limit');
  const offset = count(flags.offset, '--offset');
  const opts = {
    ...(state ? { state } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
  };
  if (connector) return ops.listMessages(connector, opts);
  const all: QueuedMessage[] = [];
  const want = (offset ?? 0) + (limit ?? 100);
  for (const name of ops.names()) {
    // Pages of the largest size the operation takes, until this connector is done.
    for (let at = 0; all.length < want; at += 1000) {
      const page = await ops.listMessages(name, {
        ...(state ? { state } : {}),
        limit: 1000,
        offset: at,
      });
      all.push(...page);
      if (page.length < 1000) break;
    }
  }
  return all.slice(offset ?? 0, want);
}

/**
 * The jobs an ID names on a connector: the BullMQ job id itself, or the queue
 * id of the ingress's `250 … queued as <id>` reply (every job of that message
 * still on the connector: one per recipient group).
 */
export async function jobIdsOf(
  ops: QueueOperations,
  connector: string,
  id: string,
): Promise<string[]> {
  const c = ops.resolve(connector);
  const listed = await ops.message(id).catch((e: unknown) => {
    if (e instanceof QueueOperationError && e.code === 'MAILBUS_ERR_UNKNOWN_MESSAGE') return [];
    throw e;
  });
  // A queue id (not a Message-ID, sender or recipient: those could name many messages).
  const jobs = listed
    .filter((m) => m.queueId === id)
    .flatMap((m) => m.jobs)
    .filter((j) => j.connector === c)
    .map((j) => j.jobId);
  return jobs.length > 0 ? jobs : [id];
}

/** `moved 1 message from A to B` and the like. */
export function movedLine(moved: number, from: string, to: string, skipped: number): string {
  return `moved ${plural(moved, 'message')} from ${from} to ${to}${skipped ? ` (${plural(skipped, 'message')} in delivery left in place)` : ''}`;
}
