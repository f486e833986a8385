import type { DsnRequest } from '@mailbus/bridgehead';
import type { DeliveryJobData } from '@mailbus/queue';

/**
 * The DSN an operator's "delete with DSN" sends: every recipient of the job
 * failed with 5.0.0, explained as the administrator's action (no server
 * replied, so no Diagnostic-Code). It is built while the body is still
 * stored, so the original is returned. The id derives from the job, so a
 * repeated delete queues one DSN.
 */
export function deletedMessageDsn(job: DeliveryJobData, reason: string): DsnRequest {
  return {
    job,
    now: Date.now(),
    dsnId: `${job.messageId}.${job.branch}.${job.hop}.deleted`,
    recipients: job.recipients.map((r) => ({
      recipient: r,
      action: 'failed',
      status: '5.0.0',
      explanation: `The message was deleted from the queue by an administrator (${reason}).`,
    })),
  };
}
