import { QueueOperations, type MailQueue } from '@mailbus/queue';
import { waitFor } from '@mailbus/testing';

/**
 * Resolves once no connector of `queue` holds a job that is waiting, active
 * or due for a retry: every accepted message has had its delivery, nothing
 * more is on its way to a sink. (Jobs delayed by a closed schedule or held
 * for ETRN do not count.)
 */
export async function queueDrained(queue: MailQueue, timeoutMs = 15_000): Promise<void> {
  const ops = new QueueOperations(queue);
  await waitFor(
    async () =>
      (await ops.connectors(Date.now())).every(
        (c) => c.depth.waiting + c.depth.active + c.depth.retrying === 0,
      ),
    { timeoutMs, intervalMs: 50, what: 'every connector queue to drain' },
  );
}
