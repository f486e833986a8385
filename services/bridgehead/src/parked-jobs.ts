import { UnrecoverableError, type Job } from 'bullmq';
import type { DeliveryJobData, MailQueue } from '@mailbus/queue';
import type { Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';

export interface ParkedJobsDeps {
  queue: MailQueue;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * What follows an unexpected error in a delivery job (a bug, a corrupt job, a
 * lost body): BullMQ tries it again a bounded number of times with a growing
 * wait (DELIVERY_JOB_OPTIONS); after the last try the job stays `failed`,
 * parked: counted, tracked, logged, its body kept, until an operator retries
 * (`mailbus connector retry`), moves or deletes it.
 */
export function onJobFailed(
  deps: ParkedJobsDeps,
  connector: string,
  job: Job<DeliveryJobData> | undefined,
  err: Error,
): void {
  const id: unknown = job?.data?.messageId;
  const messageId = typeof id === 'string' ? id : undefined;
  const attempts = job?.opts.attempts ?? 1;
  const parked = err instanceof UnrecoverableError || (job?.attemptsMade ?? 0) >= attempts;
  const log = { err, message_id: messageId, job_id: job?.id, connector };
  if (!parked) {
    deps.logger.warn(
      { ...log, attempt: job?.attemptsMade, of: attempts },
      'delivery job failed unexpectedly; it will be tried again',
    );
    return;
  }
  deps.metrics?.jobsParked.inc({ connector });
  deps.logger.error(
    { ...log, attempts: job?.attemptsMade },
    'delivery job parked as failed: retry, move or delete it (mailbus queue list --state failed)',
  );
  if (!messageId) return;
  const recipients = Array.isArray(job?.data.recipients)
    ? job.data.recipients.map((r) => String(r?.address))
    : [];
  void deps.queue.tracking
    .record(messageId, {
      type: 'failed',
      connector,
      recipients,
      detail: `parked after ${job?.attemptsMade ?? 0} unexpected error(s): ${err.message}`,
    })
    .catch(() => undefined);
  void deps.queue.store.park(messageId).catch(() => undefined);
}
