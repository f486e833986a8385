import type { RecipientResult } from '@mailbus/delivery';
import { jobId, type DeliveryJobData, type JobRecipient, type MailQueue } from '@mailbus/queue';
import type { OnwardStep } from '@mailbus/schedule';
import { formatReply, reply, type SmtpReply } from '@mailbus/smtp';
import { SpanAttr, SpanName, withSpan, type Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import type { DsnRecipient, DsnRequest } from './dsn-request.js';

export interface AfterAttemptDeps {
  queue: MailQueue;
  metrics?: Metrics;
  /** Sends a DSN for recipients; resolves when it is queued. */
  sendDsn: (req: DsnRequest) => Promise<void>;
  now: () => number;
}

/** The error a job whose body is gone ends with: parked at once (retrying cannot bring it back). */
export const MISSING_BODY = 'message body missing from the queue store';

/**
 * What follows a delivery attempt for its recipients, once the delivery policy
 * has answered: the failure DSN for a 5xx, the `relayed` DSN, the job on the
 * next candidate or the retry job (with the one delay DSN when it is due), the
 * 5.4.7 expiry. It carries out steps; the policy (libs/schedule) decides them.
 */
export class AfterAttempt {
  private readonly now: () => number;

  constructor(private readonly deps: AfterAttemptDeps) {
    this.now = deps.now;
  }

  /** A 5xx is final for its recipients (the policy's rule 8): counted, tracked, a failure DSN. */
  async bounce(
    data: DeliveryJobData,
    permanent: RecipientResult[],
    byAddr: Map<string, JobRecipient>,
    connector: string,
  ): Promise<void> {
    const { queue, metrics } = this.deps;
    const first = formatReply(permanent[0]?.reply ?? reply(550, '5.0.0', 'failed'));
    metrics?.messagesBounced.inc({ connector }, permanent.length);
    void queue.tracking.record(data.messageId, {
      type: 'failed',
      connector,
      recipients: permanent.map((r) => r.recipient),
      reply: first,
    });
    await this.dsn(
      'failure',
      data,
      'F',
      answered(permanent, byAddr, 'failed', (r) => r.reply.enhanced || '5.0.0'),
    );
  }

  /**
   * NOTIFY=SUCCESS for a recipient handed to a next hop without DSN: that hop
   * will never report delivery, so mailbus reports `relayed` (RFC 3461 §4.3).
   */
  async relayed(
    data: DeliveryJobData,
    delivered: RecipientResult[],
    byAddr: Map<string, JobRecipient>,
  ): Promise<void> {
    const relayed = delivered.filter(
      (r) => r.nextHopDsn === false && byAddr.get(r.recipient)?.notify?.includes('SUCCESS'),
    );
    if (relayed.length === 0) return;
    await this.dsn(
      'success',
      data,
      'R',
      answered(relayed, byAddr, 'relayed', () => '2.0.0'),
    );
  }

  /**
   * Carries out the policy's step for recipients that did not get through:
   * a job on the next candidate, a retry job on the first (with the one delay
   * DSN when it is due), or the 5.4.7 DSN.
   */
  async onward(
    data: DeliveryJobData,
    recipients: JobRecipient[],
    last: SmtpReply,
    from: string,
    step: OnwardStep,
    now: number,
    host?: string,
  ): Promise<'failover' | 'deferred' | 'expired'> {
    const { queue, metrics } = this.deps;
    if (step.kind === 'expire') {
      await this.expire(data, recipients, last, from, now, host);
      return 'expired';
    }
    const attempts = [
      ...data.attempts,
      { connector: from, at: now, result: formatReply(last), ...(host ? { host } : {}) },
    ].slice(-20);
    const base = { ...data, recipients, attempts, hop: data.hop + 1 };
    const addresses = recipients.map((r) => r.address);
    let next: DeliveryJobData;
    if (step.kind === 'failover') {
      metrics?.failovers.inc({ from, to: step.connector });
      void queue.tracking.record(data.messageId, {
        type: 'failover',
        connector: step.connector,
        recipients: addresses,
        reply: formatReply(last),
        detail: `from ${from} (${step.skipped ? 'failover' : 'transient'})`,
      });
      next = { ...base, planIndex: step.planIndex };
    } else {
      if (step.delayNotice)
        await this.dsn(
          'delay',
          data,
          'D',
          recipients.map((r) => ({
            recipient: r,
            action: 'delayed',
            status: last.enhanced.startsWith('4') ? last.enhanced : '4.4.7',
            reply: last,
            willRetryUntil: step.willRetryUntil,
            ...(host ? { remoteMta: host } : {}),
          })),
          now,
        );
      // Counted on the connector the retry waits on (the first choice).
      metrics?.messagesDeferred.inc({ connector: step.connector }, recipients.length);
      void queue.tracking.record(data.messageId, {
        type: 'deferred',
        connector: step.connector,
        recipients: addresses,
        reply: formatReply(last),
        detail: `retry in ${Math.round((step.until - now) / 1000)}s (round ${step.round})`,
      });
      next = {
        ...base,
        planIndex: 0,
        round: step.round,
        delayNotified: (data.delayNotified ?? false) || step.delayNotice,
      };
    }
    await queue.store.retain(data.messageId);
    await queue.queues.add(
      step.connector,
      next,
      jobId(data.messageId, data.branch, data.hop + 1),
      step.until - now,
    );
    return step.kind === 'failover' ? 'failover' : 'deferred';
  }

  /** Gives up on recipients: DSN 5.4.7 with the last error. */
  private async expire(
    data: DeliveryJobData,
    recipients: JobRecipient[],
    last: SmtpReply,
    connector: string,
    now: number,
    host?: string,
  ): Promise<void> {
    void this.deps.queue.tracking.record(data.messageId, {
      type: 'expired',
      connector,
      recipients: recipients.map((r) => r.address),
      reply: formatReply(last),
    });
    this.deps.metrics?.messagesBounced.inc({ connector }, recipients.length);
    await this.dsn(
      'failure',
      data,
      'X',
      recipients.map((r) => ({
        recipient: r,
        action: 'failed',
        status: '5.4.7',
        reply: last,
        ...(host ? { remoteMta: host } : {}),
      })),
      now,
    );
  }

  /**
   * A DSN as a `dsn.send` span: a child of the attempt that caused it, so the DSN message (whose
   * job carries this span's context) continues the original message's trace. Its id is the job's
   * plus a letter per cause (F failed, R relayed, D delayed, X expired, L lost), so a job run twice
   * sends it once.
   */
  private dsn(
    kind: 'failure' | 'delay' | 'success',
    job: DeliveryJobData,
    cause: 'F' | 'R' | 'D' | 'X' | 'L',
    recipients: DsnRecipient[],
    now = this.now(),
  ): Promise<void> {
    const dsnId = `${jobId(job.messageId, job.branch, job.hop)}${cause}`;
    return withSpan(
      SpanName.DsnSend,
      {
        [SpanAttr.DsnKind]: kind,
        [SpanAttr.QueueId]: job.messageId,
        [SpanAttr.RecipientCount]: recipients.length,
      },
      () => this.deps.sendDsn({ job, now, dsnId, recipients }),
    );
  }

  /** The body is gone (never delivered): the sender learns it; the job is parked for the operator. */
  async bodyLost(data: DeliveryJobData, connector: string, log: Logger): Promise<void> {
    log.error({ recipients: data.recipients.length }, `${MISSING_BODY}: returned to the sender`);
    await this.dsn(
      'failure',
      data,
      'L',
      data.recipients.map((r) => ({
        recipient: r,
        action: 'failed',
        status: '5.3.0',
        explanation: `The message was lost from the queue of connector ${connector} before it could be delivered; please send it again.`,
      })),
    );
  }
}

/** DSN lines for recipients a host answered: its reply as the diagnostic, the host as the remote MTA. */
function answered(
  results: RecipientResult[],
  byAddr: Map<string, JobRecipient>,
  action: DsnRecipient['action'],
  status: (r: RecipientResult) => string,
): DsnRecipient[] {
  return results.map((r) => ({
    recipient: byAddr.get(r.recipient) ?? { address: r.recipient },
    action,
    status: status(r),
    reply: r.reply,
    ...(r.host ? { remoteMta: r.host } : {}),
  }));
}
