import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Config, Connector, VirtualServer } from '@mailbus/config';
import type { OutboundDelivery, OutboundSecurity, RecipientResult } from '@mailbus/delivery';
import type { ProtocolLogWriter } from '@mailbus/protocol-log';
import {
  LOCAL_DELIVERY,
  messageFacts,
  type DeliveryJobData,
  type MailQueue,
  type TrackingWrite,
} from '@mailbus/queue';
import { formatReply, reply } from '@mailbus/smtp';
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
import { AfterAttempt, MISSING_BODY } from './after-attempt.js';
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

/**
 * What a bridgehead does with one job: ask the delivery policy (libs/schedule)
 * what to do, deliver when it says so, record each result, and carry out the
 * policy's answer for what is left through AfterAttempt (failover, retry,
 * delay DSN, expiry). It decides nothing itself.
 */
export class DeliveryProcessor {
  private readonly connectors: Map<string, Connector>;
  private readonly now: () => number;
  private readonly send: SendAttempts;
  private readonly after: AfterAttempt;

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
    this.after = new AfterAttempt({
      queue: deps.queue,
      sendDsn: deps.sendDsn,
      now: this.now,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
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
        await this.after.onward(data, data.recipients, reply(451, code, why), name, step, now);
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
      await this.after.bodyLost(data, name, log);
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
      await this.after.relayed(data, delivered, byAddr);
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
      logLine('bounced', permanent);
      await this.after.bounce(data, permanent, byAddr, name);
    }
    let onward: DeliveryStatus | undefined;
    if (transient.length > 0) {
      const step = queue.policy.decide({
        message: messageFacts(data),
        event: { kind: 'transient' },
        now,
        forcedUntil: await queue.forced.read(data.plan, data.size),
      });
      onward = await this.after.onward(
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
}
