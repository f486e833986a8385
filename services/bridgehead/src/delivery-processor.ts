import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Config, Connector, VirtualServer } from '@mailbus/config';
import type { OutboundDelivery, OutboundSecurity, RecipientResult } from '@mailbus/delivery';
import type { ProtocolLogWriter } from '@mailbus/protocol-log';
import {
  jobId,
  LOCAL_DELIVERY,
  messageFacts,
  type DeliveryJobData,
  type JobRecipient,
  type MailQueue,
  type TrackingWrite,
} from '@mailbus/queue';
import type { OnwardStep } from '@mailbus/schedule';
import { formatReply, reply, type SmtpReply } from '@mailbus/smtp';
import {
  deliveryLogFields,
  extractContext,
  SpanAttr,
  SpanName,
  SpanStatusCode,
  withSpan,
  type DeliveryStatus,
  type Metrics,
  type SpanOutcome,
} from '@mailbus/telemetry';
import type { Logger } from 'pino';
import type { DsnRequest } from './dsn-request.js';
import { SendAttempts } from './send-attempts.js';
import type { ReceiveOn } from './turn-after-delivery.js';

export interface DeliveryProcessorDeps {
  config: Config;
  /** The virtual server this bridgehead delivers as (HELO name, outbound defaults, protocol log). */
  virtualServer: VirtualServer;
  queue: MailQueue;
  outbound: OutboundDelivery;
  logger: Logger;
  metrics?: Metrics;
  protocolLog?: ProtocolLogWriter;
  /** Sends a DSN for recipients; resolves when it is queued. */
  sendDsn: (req: DsnRequest) => Promise<void>;
  /** Names and addresses of this organisation's own ingress: a next hop equal to one is a loop. */
  ownHosts: ReadonlySet<string>;
  now?: () => number;
  random?: () => number;
  /** The connector's Outbound Security with its secrets resolved (outbound-security.ts). */
  security: (c: Connector | undefined) => OutboundSecurity;
  /** Receives on a connection TURN/ATRN reversed (advanced.request: turn). */
  receiveOn?: ReceiveOn;
}

/** What one attempt did, for its span. */
interface AttemptSummary {
  outcome: SpanOutcome;
  delivered: number;
  deferred: number;
  bounced: number;
  /** The reply of a recipient that did not get through, if any. */
  reply?: string;
}

/** The error a job whose body is gone ends with: parked at once (retrying cannot bring it back). */
export const MISSING_BODY = 'message body missing from the queue store';

/**
 * What a bridgehead does with one job: ask the delivery policy (libs/schedule)
 * what to do, deliver when it says so, record each result, and carry out the
 * policy's answer for what is left (failover, retry, delay DSN, expiry). It
 * decides nothing itself.
 */
export class DeliveryProcessor {
  private readonly connectors: Map<string, Connector>;
  private readonly now: () => number;
  private readonly send: SendAttempts;

  constructor(private readonly deps: DeliveryProcessorDeps) {
    this.connectors = new Map(deps.config.connectors.map((c) => [c.name, c]));
    this.now = deps.now ?? Date.now;
    this.send = new SendAttempts({
      config: deps.config,
      virtualServer: deps.virtualServer,
      queue: deps.queue,
      outbound: deps.outbound,
      logger: deps.logger,
      ownHosts: deps.ownHosts,
      security: deps.security,
      now: this.now,
      ...(deps.protocolLog ? { protocolLog: deps.protocolLog } : {}),
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.receiveOn ? { receiveOn: deps.receiveOn } : {}),
    });
  }

  /** The BullMQ processor. */
  async process(job: Job<DeliveryJobData>, token?: string): Promise<void> {
    const { queue } = this.deps;
    const data = job.data;
    const name = data.plan[data.planIndex] ?? LOCAL_DELIVERY;
    const connector = this.connectors.get(name);
    const now = this.now();
    const forcedUntil = await queue.forced.read(data.plan, data.size);
    // Link state is read at most once a second per connector: one round trip per job saved.
    const down = connector ? await queue.links.down([name], now, 1000) : undefined;
    const step = queue.policy.decide({
      message: messageFacts(data),
      event: { kind: 'pickup', linkDown: down?.has(name) ?? false },
      now,
      forcedUntil,
    });
    switch (step.kind) {
      case 'wait':
        await job.moveToDelayed(step.until, token);
        throw new DelayedError();
      case 'deliver':
        break;
      default: {
        const why =
          step.kind === 'expire' && step.reason === 'held'
            ? `Connector ${name} is remote triggered and no ETRN released the message`
            : step.kind === 'expire'
              ? `The delivery schedule of connector ${name} did not open before the message expired`
              : `Connector ${name} is marked down`;
        const code = step.kind === 'expire' ? '4.4.7' : '4.4.1';
        await this.onward(data, data.recipients, reply(451, code, why), name, step, now);
        await queue.store.release(data.messageId);
        return;
      }
    }
    const previous = data.attempts[data.attempts.length - 1];
    await withSpan(
      SpanName.DeliveryAttempt,
      {
        [SpanAttr.QueueId]: data.messageId,
        [SpanAttr.MessageId]: data.headerMessageId ?? data.messageId,
        [SpanAttr.JobId]: job.id ?? '',
        [SpanAttr.Connector]: name,
        [SpanAttr.VirtualServer]: this.deps.virtualServer.name,
        [SpanAttr.RecipientCount]: data.recipients.length,
        [SpanAttr.Size]: data.size,
        [SpanAttr.Attempt]: data.attempts.length + 1,
        [SpanAttr.Failover]: data.planIndex > 0,
        ...(data.planIndex > 0 && previous ? { [SpanAttr.FailoverFrom]: previous.connector } : {}),
      },
      async (span) => {
        const a = await this.attempt(data, connector, now);
        span.setAttribute(SpanAttr.Outcome, a.outcome);
        span.setAttribute(SpanAttr.DeliveredCount, a.delivered);
        span.setAttribute(SpanAttr.DeferredCount, a.deferred);
        span.setAttribute(SpanAttr.BouncedCount, a.bounced);
        if (a.outcome !== 'delivered' && a.reply)
          span.setStatus({ code: SpanStatusCode.ERROR, message: a.reply });
      },
      { parent: extractContext(data.trace) },
    );
  }

  private async attempt(
    data: DeliveryJobData,
    connector: Connector | undefined,
    now: number,
  ): Promise<AttemptSummary> {
    const { queue, logger } = this.deps;
    const name = connector?.name ?? LOCAL_DELIVERY;
    const log = logger.child({ message_id: data.messageId, connector: name });
    // The body and the delivered marks in one command.
    const { body, delivered: already } = await queue.store.bodyAndDelivered(
      data.messageId,
      data.recipients.map((r) => r.address),
    );
    if (!body) {
      await this.bodyLost(data, name, log);
      throw new UnrecoverableError(MISSING_BODY);
    }
    const pending = data.recipients.filter((r) => !already.has(r.address));
    if (pending.length === 0) {
      await queue.store.release(data.messageId);
      return { outcome: 'delivered', delivered: 0, deferred: 0, bounced: 0 };
    }

    // Recipients of the last host transaction come back unmarked: their marks are
    // written with the release below when nothing else follows (one round trip).
    const sent = await this.send.run(data, connector, pending, body);
    const { results, unmarked, attempts } = sent;
    // One delivery log line per outcome, Postfix's fields (delivery-log-fields.ts).
    const logLine = (status: DeliveryStatus, rs: RecipientResult[]) => {
      const first = rs[0]?.reply;
      log.info(
        deliveryLogFields({
          queueId: data.messageId,
          recipients: rs.map((r) => r.recipient),
          host: sent.host,
          reply: first ? formatReply(first) : undefined,
          dsn: first?.enhanced || undefined,
          status,
          receivedAt: data.receivedAt,
          startedAt: now,
          finishedAt: this.now(),
          timing: sent.timing,
        }),
        status,
      );
    };
    const byAddr = new Map(pending.map((r) => [r.address, r]));
    const delivered = results.filter((r) => r.status === 'delivered');
    const permanent = results.filter((r) => r.status === 'permanent');
    const transient = results.filter((r) => r.status === 'transient');

    // The last 'attempt' and the 'delivered' event go with the release when nothing
    // else follows (one round trip); otherwise they are written now, in order.
    const done = delivered.length > 0 && permanent.length === 0 && transient.length === 0;
    const closing: TrackingWrite[] = done ? [...attempts] : [];
    if (!done)
      for (const a of attempts) void queue.tracking.write(data.messageId, a).catch(() => undefined);
    if (delivered.length > 0) {
      // Already recorded per host transaction in SendAttempts, as soon as the remote 250 arrived.
      this.deps.metrics?.messagesDelivered.inc({ connector: name }, delivered.length);
      this.deps.metrics?.deliveryLatency.observe(
        { connector: name },
        (this.now() - data.receivedAt) / 1000,
      );
      const event = queue.tracking.prepare(data.messageId, {
        type: 'delivered',
        connector: name,
        recipients: delivered.map((r) => r.recipient),
        ...(delivered[0]?.host ? { host: delivered[0].host } : {}),
        reply: formatReply(delivered[0]?.reply ?? reply(250, '', 'OK')),
      });
      if (done) closing.push(event);
      else void queue.tracking.write(data.messageId, event).catch(() => undefined);
      if (connector) await queue.links.recordSuccess(connector.name, this.now());
      logLine('sent', delivered);
      await this.relayedDsn(data, delivered, byAddr);
    }
    if (unmarked.length > 0 && !done) {
      // Before DSNs, failover or retries: a crash from here on must not re-send to these.
      await queue.store.markDelivered(data.messageId, unmarked, this.now());
    }
    // A 5xx is final for its recipients (the policy's rule 8): no failover, a failure DSN.
    if (
      permanent.length > 0 &&
      queue.policy.decide({ message: messageFacts(data), event: { kind: 'permanent' }, now })
        .kind === 'bounce'
    ) {
      const first = formatReply(permanent[0]?.reply ?? reply(550, '5.0.0', 'failed'));
      this.deps.metrics?.messagesBounced.inc({ connector: name }, permanent.length);
      void queue.tracking.record(data.messageId, {
        type: 'failed',
        connector: name,
        recipients: permanent.map((r) => r.recipient),
        reply: first,
      });
      logLine('bounced', permanent);
      await this.dsn('failure', {
        job: data,
        now: this.now(),
        dsnId: `${jobId(data.messageId, data.branch, data.hop)}F`,
        recipients: permanent.map((r) => ({
          recipient: byAddr.get(r.recipient) ?? { address: r.recipient },
          action: 'failed',
          status: r.reply.enhanced || '5.0.0',
          reply: r.reply,
          ...(r.host ? { remoteMta: r.host } : {}),
        })),
      });
    }
    let onward: DeliveryStatus | undefined;
    if (transient.length > 0) {
      const step = queue.policy.decide({
        message: messageFacts(data),
        event: { kind: 'transient' },
        now,
        forcedUntil: await queue.forced.read(data.plan, data.size),
      });
      onward = await this.onward(
        data,
        transient.map((r) => byAddr.get(r.recipient) ?? { address: r.recipient }),
        transient[0]?.reply ?? reply(451, '4.0.0', 'deferred'),
        name,
        step,
        now,
        transient[0]?.host,
      );
      logLine(onward, transient);
    }
    await queue.store.release(data.messageId, closing, done ? unmarked : [], this.now());
    const worst = transient[0] ?? permanent[0];
    return {
      outcome:
        onward === 'sent' || onward === undefined
          ? permanent.length > 0
            ? 'bounced'
            : 'delivered'
          : onward,
      delivered: delivered.length,
      deferred: transient.length,
      bounced: permanent.length,
      ...(worst ? { reply: formatReply(worst.reply) } : {}),
    };
  }

  /**
   * NOTIFY=SUCCESS for a recipient handed to a next hop without DSN: that hop
   * will never report delivery, so mailbus reports `relayed` (RFC 3461 §4.3).
   */
  private async relayedDsn(
    data: DeliveryJobData,
    delivered: RecipientResult[],
    byAddr: Map<string, JobRecipient>,
  ): Promise<void> {
    const relayed = delivered.filter(
      (r) => r.nextHopDsn === false && byAddr.get(r.recipient)?.notify?.includes('SUCCESS'),
    );
    if (relayed.length === 0) return;
    await this.dsn('success', {
      job: data,
      now: this.now(),
      dsnId: `${jobId(data.messageId, data.branch, data.hop)}R`,
      recipients: relayed.map((r) => ({
        recipient: byAddr.get(r.recipient) ?? { address: r.recipient },
        action: 'relayed',
        status: '2.0.0',
        reply: r.reply,
        ...(r.host ? { remoteMta: r.host } : {}),
      })),
    });
  }

  /**
   * Carries out the policy's step for recipients that did not get through:
   * a job on the next candidate, a retry job on the first (with the one delay
   * DSN when it is due), or the 5.4.7 DSN.
   */
  private async onward(
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
        await this.dsn('delay', {
          job: data,
          now,
          dsnId: `${jobId(data.messageId, data.branch, data.hop)}D`,
          recipients: recipients.map((r) => ({
            recipient: r,
            action: 'delayed',
            status: last.enhanced.startsWith('4') ? last.enhanced : '4.4.7',
            reply: last,
            willRetryUntil: step.willRetryUntil,
            ...(host ? { remoteMta: host } : {}),
          })),
        });
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
    await this.dsn('failure', {
      job: data,
      now,
      dsnId: `${jobId(data.messageId, data.branch, data.hop)}X`,
      recipients: recipients.map((r) => ({
        recipient: r,
        action: 'failed',
        status: '5.4.7',
        reply: last,
        ...(host ? { remoteMta: host } : {}),
      })),
    });
  }

  /**
   * A DSN as a `dsn.send` span: a child of the attempt that caused it, so the DSN message (whose
   * job carries this span's context) continues the original message's trace.
   */
  private dsn(kind: 'failure' | 'delay' | 'success', req: DsnRequest): Promise<void> {
    return withSpan(
      SpanName.DsnSend,
      {
        [SpanAttr.DsnKind]: kind,
        [SpanAttr.QueueId]: req.job.messageId,
        [SpanAttr.RecipientCount]: req.recipients.length,
      },
      () => this.deps.sendDsn(req),
    );
  }

  /** The body is gone (never delivered): the sender learns it; the job is parked for the operator. */
  private async bodyLost(data: DeliveryJobData, connector: string, log: Logger): Promise<void> {
    log.error({ recipients: data.recipients.length }, `${MISSING_BODY}: returned to the sender`);
    await this.dsn('failure', {
      job: data,
      now: this.now(),
      dsnId: `${jobId(data.messageId, data.branch, data.hop)}L`,
      recipients: data.recipients.map((r) => ({
        recipient: r,
        action: 'failed',
        status: '5.3.0',
        explanation: `The message was lost from the queue of connector ${connector} before it could be delivered; please send it again.`,
      })),
    });
  }
}
