import { DelayedError, type Job } from 'bullmq';
import type { Config, Connector, VirtualServer } from '@mailbus/config';
import { parseSmartHost } from '@mailbus/config';
import {
  resolveMx,
  type DeliveryHost,
  type OutboundDelivery,
  type RecipientResult,
} from '@mailbus/delivery';
import {
  OUTBOUND_COMMAND,
  OUTBOUND_RESPONSE,
  redactCommand,
  type ProtocolLogWriter,
} from '@mailbus/protocol-log';
import {
  jobId,
  LOCAL_DELIVERY,
  type DeliveryJobData,
  type JobRecipient,
  type MailQueue,
  type TrackingWrite,
} from '@mailbus/queue';
import { retryDelay } from '@mailbus/schedule';
import { formatReply, reply, type SmtpReply } from '@mailbus/smtp';
import { extractContext, SpanAttr, SpanName, withSpan, type Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import { receivedHeader, receivingFqdn } from './received-header.js';

/** A recipient that will not be delivered (permanent failure or expiry), or is delayed: DSN material. */
export interface DsnRecipient {
  recipient: JobRecipient;
  action: 'failed' | 'delayed' | 'relayed';
  status: string;
  reply?: SmtpReply;
  remoteMta?: string;
  /** For a delay DSN: when mailbus gives up (receivedAt + expireAfter). */
  willRetryUntil?: number;
}

export interface DsnRequest {
  job: DeliveryJobData;
  recipients: DsnRecipient[];
  now: number;
  /** Deterministic id so a re-run job does not send the DSN twice. */
  dsnId: string;
  /** The original message, when the caller has it (else it is read from the store). */
  original?: Buffer;
}

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
  /** Resolved password per connector (auth basic). */
  passwords: ReadonlyMap<string, string>;
}

const DEFAULT_RETRY = {
  intervals: [900_000, 1_800_000, 3_600_000, 14_400_000],
  expireAfter: 172_800_000,
  delayNotifyAfter: 43_200_000,
};

/**
 * What a bridgehead does with one job: deliver the job's recipients through
 * its connector, record each result, and hand what is left to the next
 * candidate connector, or to a retry, or to a DSN.
 */
export class DeliveryProcessor {
  private readonly connectors: Map<string, Connector>;
  private readonly now: () => number;

  constructor(private readonly deps: DeliveryProcessorDeps) {
    this.connectors = new Map(deps.config.connectors.map((c) => [c.name, c]));
    this.now = deps.now ?? Date.now;
  }

  /** The BullMQ processor. */
  async process(job: Job<DeliveryJobData>, token?: string): Promise<void> {
    const data = job.data;
    const connectorName = data.plan[data.planIndex] ?? LOCAL_DELIVERY;
    const connector = this.connectors.get(connectorName);
    const now = this.now();

    // Schedule closed (or window passed while waiting): wait as a delayed job,
    // but never past expiry; a held (remote-triggered) job that nobody released
    // expires too.
    if (connector) {
      const expiresAt = data.receivedAt + connector.retry.expireAfter;
      let wait = this.deps.queue.schedules.delay(connector.name, data.size, now);
      // An operator's "retry now" opens the connector for a while, whatever its schedule.
      if (
        wait > 0 &&
        (await this.deps.queue.redis.exists(this.deps.queue.keys.forced(connector.name))) === 1
      )
        wait = 0;
      const held = connector.delivery.remoteTriggered && now >= expiresAt;
      if ((wait > 0 && now >= expiresAt) || held) {
        const why = held
          ? `Connector ${connector.name} is remote triggered and no ETRN released the message`
          : `The delivery schedule of connector ${connector.name} did not open before the message expired`;
        await this.expire(data, data.recipients, reply(451, '4.4.7', why), connector.name, now);
        await this.deps.queue.store.release(data.messageId);
        return;
      }
      if (wait > 0) {
        await job.moveToDelayed(Math.min(now + wait, expiresAt), token);
        throw new DelayedError();
      }
      // Read at most once a second per connector: one round trip per job saved.
      const down = await this.deps.queue.links.down([connector.name], now, 1000);
      if (down.has(connector.name) && data.planIndex + 1 < data.plan.length) {
        // Link marked down by some bridgehead: fail over at once without trying.
        await this.handOn(
          data,
          data.recipients,
          reply(451, '4.4.1', `Connector ${connector.name} is marked down`),
          connector,
          now,
          'failover',
        );
        await this.deps.queue.store.release(data.messageId);
        return;
      }
    }

    const parent = extractContext(data.trace);
    await withSpan(
      SpanName.DeliveryAttempt,
      {
        [SpanAttr.QueueId]: data.messageId,
        [SpanAttr.Connector]: connectorName,
        [SpanAttr.RecipientCount]: data.recipients.length,
        [SpanAttr.Size]: data.size,
      },
      async (span) => {
        const outcome = await this.attempt(data, connector, now);
        span.setAttribute(SpanAttr.Outcome, outcome);
      },
      { parent },
    );
  }

  private retryPolicy(c: Connector | undefined) {
    return c?.retry ?? DEFAULT_RETRY;
  }

  private async attempt(
    data: DeliveryJobData,
    connector: Connector | undefined,
    now: number,
  ): Promise<string> {
    const { queue, logger } = this.deps;
    const log = logger.child({
      message_id: data.messageId,
      connector: connector?.name ?? LOCAL_DELIVERY,
    });
    // The body and the delivered marks in one command.
    const { body, delivered: already } = await queue.store.bodyAndDelivered(
      data.messageId,
      data.recipients.map((r) => r.address),
    );
    if (!body) {
      log.error('message body missing from Redis; nothing to deliver');
      return 'missing';
    }
    const pending = data.recipients.filter((r) => !already.has(r.address));
    if (pending.length === 0) {
      await queue.store.release(data.messageId);
      return 'delivered';
    }

    // Recipients of the last host transaction come back unmarked: their marks are
    // written with the release below when nothing else follows (one round trip).
    const { results, unmarked, attempts } = await this.deliverAll(data, connector, pending, body);
    const byAddr = new Map(pending.map((r) => [r.address, r]));
    const delivered = results.filter((r) => r.status === 'delivered');
    const permanent = results.filter((r) => r.status === 'permanent');
    const transient = results.filter((r) => r.status === 'transient');
    const connectorName = connector?.name ?? LOCAL_DELIVERY;

    // The last 'attempt' and the 'delivered' event go with the release when nothing
    // else follows (one round trip); otherwise they are written now, in order.
    const done = delivered.length > 0 && permanent.length === 0 && transient.length === 0;
    const closing: TrackingWrite[] = done ? [...attempts] : [];
    if (!done)
      for (const a of attempts) void queue.tracking.write(data.messageId, a).catch(() => undefined);
    if (delivered.length > 0) {
      // Already recorded per host transaction in deliverAll, as soon as the remote 250 arrived.
      this.deps.metrics?.messagesDelivered.inc({ connector: connectorName }, delivered.length);
      this.deps.metrics?.deliveryLatency.observe(
        { connector: connectorName },
        (this.now() - data.receivedAt) / 1000,
      );
      const event = queue.tracking.prepare(data.messageId, {
        type: 'delivered',
        connector: connectorName,
        recipients: delivered.map((r) => r.recipient),
        ...(delivered[0]?.host ? { host: delivered[0].host } : {}),
        reply: formatReply(delivered[0]?.reply ?? reply(250, '', 'OK')),
      });
      if (done) closing.push(event);
      else void queue.tracking.write(data.messageId, event).catch(() => undefined);
      if (connector) await queue.links.recordSuccess(connector.name, this.now());
      log.info({ recipients: delivered.length, host: delivered[0]?.host }, 'delivered');
      await this.relayedDsn(data, delivered, byAddr);
    }
    if (unmarked.length > 0 && !done) {
      // Before DSNs, failover or retries: a crash from here on must not re-send to these.
      await queue.store.markDelivered(data.messageId, unmarked, this.now());
    }
    if (permanent.length > 0) {
      this.deps.metrics?.messagesBounced.inc({ connector: connectorName }, permanent.length);
      void queue.tracking.record(data.messageId, {
        type: 'failed',
        connector: connectorName,
        recipients: permanent.map((r) => r.recipient),
        reply: formatReply(permanent[0]?.reply ?? reply(550, '5.0.0', 'failed')),
      });
      log.info(
        {
          recipients: permanent.length,
          reply: formatReply(permanent[0]?.reply ?? reply(550, '5.0.0', '')),
        },
        'permanent failure',
      );
      await this.deps.sendDsn({
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
    if (transient.length > 0) {
      const last = transient[0]?.reply ?? reply(451, '4.0.0', 'deferred');
      await this.handOn(
        data,
        transient.map((r) => byAddr.get(r.recipient) ?? { address: r.recipient }),
        last,
        connector,
        now,
        'transient',
        transient[0]?.host,
      );
    }
    await queue.store.release(data.messageId, closing, done ? unmarked : [], this.now());
    return transient.length > 0 ? 'deferred' : permanent.length > 0 ? 'failed' : 'delivered';
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
    await this.deps.sendDsn({
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
   * Moves recipients that failed transiently to the next candidate connector,
   * or, after the last one, back to the first after the next retry interval;
   * past expireAfter they get a DSN 5.4.7 with the last error.
   */
  private async handOn(
    data: DeliveryJobData,
    recipients: JobRecipient[],
    last: SmtpReply,
    connector: Connector | undefined,
    now: number,
    why: 'failover' | 'transient',
    host?: string,
  ): Promise<void> {
    const { queue } = this.deps;
    const connectorName = connector?.name ?? LOCAL_DELIVERY;
    const attempts = [
      ...data.attempts,
      { connector: connectorName, at: now, result: formatReply(last), ...(host ? { host } : {}) },
    ].slice(-20);
    const policy = this.retryPolicy(connector);
    const nextIndex = data.planIndex + 1;
    const base = { ...data, recipients, attempts, hop: data.hop + 1 };
    if (nextIndex < data.plan.length) {
      const next = data.plan[nextIndex] as string;
      this.deps.metrics?.failovers.inc({ from: connectorName, to: next });
      void queue.tracking.record(data.messageId, {
        type: 'failover',
        connector: next,
        recipients: recipients.map((r) => r.address),
        reply: formatReply(last),
        detail: `from ${connectorName} (${why})`,
      });
      await queue.store.retain(data.messageId);
      await queue.queues.add(
        next,
        { ...base, planIndex: nextIndex },
        jobId(data.messageId, data.branch, data.hop + 1),
        queue.initialDelay(next, data.size, now),
      );
      return;
    }
    const delay = retryDelay(policy.intervals, data.round);
    if (now + delay - data.receivedAt > policy.expireAfter) {
      await this.expire(data, recipients, last, connectorName, now, host);
      return;
    }
    let delayNotified = data.delayNotified ?? false;
    if (!delayNotified && now - data.receivedAt >= policy.delayNotifyAfter) {
      delayNotified = true;
      await this.deps.sendDsn({
        job: data,
        now,
        dsnId: `${jobId(data.messageId, data.branch, data.hop)}D`,
        recipients: recipients.map((r) => ({
          recipient: r,
          action: 'delayed',
          status: last.enhanced.startsWith('4') ? last.enhanced : '4.4.7',
          reply: last,
          willRetryUntil: data.receivedAt + policy.expireAfter,
          ...(host ? { remoteMta: host } : {}),
        })),
      });
    }
    this.deps.metrics?.messagesDeferred.inc({ connector: connectorName }, recipients.length);
    void queue.tracking.record(data.messageId, {
      type: 'deferred',
      connector: data.plan[0] ?? connectorName,
      recipients: recipients.map((r) => r.address),
      reply: formatReply(last),
      detail: `retry in ${Math.round(delay / 1000)}s (round ${data.round + 1})`,
    });
    const first = data.plan[0] as string;
    await queue.store.retain(data.messageId);
    await queue.queues.add(
      first,
      { ...base, planIndex: 0, round: data.round + 1, delayNotified },
      jobId(data.messageId, data.branch, data.hop + 1),
      Math.max(delay, queue.initialDelay(first, data.size, now + delay) + delay),
    );
  }

  /** Gives up on recipients: DSN 5.4.7 with the last error. */
  private async expire(
    data: DeliveryJobData,
    recipients: JobRecipient[],
    last: SmtpReply,
    connectorName: string,
    now: number,
    host?: string,
  ): Promise<void> {
    void this.deps.queue.tracking.record(data.messageId, {
      type: 'expired',
      connector: connectorName,
      recipients: recipients.map((r) => r.address),
      reply: formatReply(last),
    });
    this.deps.metrics?.messagesBounced.inc({ connector: connectorName }, recipients.length);
    await this.deps.sendDsn({
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

  /** Delivers to the connector's smart hosts, or by MX per domain, or to mailbox hosts. */
  private async deliverAll(
    data: DeliveryJobData,
    connector: Connector | undefined,
    pending: JobRecipient[],
    body: Buffer,
  ): Promise<{ results: RecipientResult[]; unmarked: string[]; attempts: TrackingWrite[] }> {
    const vs = this.deps.virtualServer;
    const groups: Array<
      | { hosts: DeliveryHost[]; recipients: JobRecipient[] }
      | { error: SmtpReply; permanent: boolean; recipients: JobRecipient[] }
    > = [];
    if (!connector) {
      const hosts = (data.mailboxHosts ?? []).flatMap((h) => {
        const p = parseSmartHost(h);
        return p.ok
          ? [{ name: p.value.host, address: p.value.host, port: p.value.port ?? vs.outbound.port }]
          : [];
      });
      groups.push({ hosts, recipients: pending });
    } else if (!connector.dns) {
      groups.push({
        hosts: connector.hosts.map((h) => ({
          name: h.host,
          address: h.host,
          port: h.port ?? connector.port,
        })),
        recipients: pending,
      });
    } else {
      const byDomain = new Map<string, JobRecipient[]>();
      for (const r of pending) {
        const d = (r.address.split('@').pop() ?? '').toLowerCase();
        byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
      }
      for (const [domain, recipients] of byDomain) {
        const mx = await resolveMx(domain, {
          dnsServers: connector.dnsServers,
          port: connector.port,
          ...(this.deps.random ? { random: this.deps.random } : {}),
        });
        if (!mx.ok) groups.push({ error: mx.reply, permanent: mx.permanent, recipients });
        else {
          const loop = mx.hosts.find(
            (h) =>
              this.deps.ownHosts.has(h.name.toLowerCase()) ||
              this.deps.ownHosts.has(`${h.address}:${h.port}`),
          );
          if (loop)
            groups.push({
              error: reply(
                554,
                '5.4.6',
                `Mail loop: the next hop ${loop.name} [${loop.address}] is this organisation's own ingress`,
              ),
              permanent: true,
              recipients,
            });
          else groups.push({ hosts: mx.hosts, recipients });
        }
      }
    }
    const out: RecipientResult[] = [];
    let unmarked: string[] = [];
    let attempts: TrackingWrite[] = [];
    for (const [i, g] of groups.entries()) {
      if ('error' in g) {
        for (const r of g.recipients)
          out.push({
            recipient: r.address,
            status: g.permanent ? 'permanent' : 'transient',
            reply: g.error,
          });
        continue;
      }
      const received = receivedHeader({
        client: data.client,
        byFqdn: receivingFqdn(this.deps.config, data.virtualServer) ?? vs.fqdn,
        queueId: data.messageId,
        receivedAt: data.receivedAt,
        ...(g.recipients.length === 1 ? { recipient: g.recipients[0]?.address as string } : {}),
      });
      const sec = connector?.outboundSecurity;
      const pass = connector ? this.deps.passwords.get(connector.name) : undefined;
      // Timed now, written with what follows the transaction (one round trip fewer).
      const attempt = this.deps.queue.tracking.prepare(data.messageId, {
        type: 'attempt',
        connector: connector?.name ?? LOCAL_DELIVERY,
        recipients: g.recipients.map((r) => r.address),
        host: g.hosts.map((h) => `${h.name}:${h.port}`).join(','),
      });
      // One SMTP transaction (over the hosts in order) as a child span of the attempt.
      const result = await withSpan(
        SpanName.SmtpSend,
        {
          [SpanAttr.Connector]: connector?.name ?? LOCAL_DELIVERY,
          [SpanAttr.RecipientCount]: g.recipients.length,
        },
        async (span) => {
          const r = await this.deps.outbound.deliver({
            connector: connector?.name ?? LOCAL_DELIVERY,
            hosts: g.hosts,
            heloName: vs.fqdn,
            heloInsteadOfEhlo: connector?.heloInsteadOfEhlo ?? false,
            sender: data.sender,
            recipients: g.recipients,
            body: Buffer.concat([received, body]),
            ...(data.envId ? { envId: data.envId } : {}),
            ...(data.ret ? { ret: data.ret } : {}),
            ...(data.body8bit ? { body8bit: true } : {}),
            security: {
              tls: sec?.tls ?? 'opportunistic',
              verifyCertificates: sec?.verifyCertificates ?? false,
              ...(sec?.auth === 'basic' && sec.username
                ? { auth: { user: sec.username, pass: pass ?? '' } }
                : {}),
            },
            ...(this.deps.protocolLog ? { onProtocol: (l) => this.logLine(l) } : {}),
          });
          if (r.host) span.setAttribute(SpanAttr.RemoteHost, `${r.host.name}:${r.host.port}`);
          const first = r.results[0];
          if (first) span.setAttribute(SpanAttr.Reply, formatReply(first.reply));
          return r;
        },
      );
      // Record success at once, before the next group or host: a crash from here
      // on must not re-send to these recipients (at-least-once, smallest window).
      const ok = result.results.filter((r) => r.status === 'delivered').map((r) => r.recipient);
      // The last transaction's marks and attempt are left to the caller, which writes
      // them with its next step.
      if (i === groups.length - 1 && !result.connectionFailure) {
        unmarked = ok;
        attempts = [attempt];
      } else {
        void this.deps.queue.tracking.write(data.messageId, attempt).catch(() => undefined);
        if (ok.length > 0)
          await this.deps.queue.store.markDelivered(data.messageId, ok, this.now());
      }
      if (result.connectionFailure && connector) {
        const policy = connector.linkState;
        const downUntil = await this.deps.queue.links.recordFailure(
          connector.name,
          formatReply(result.results[0]?.reply ?? reply(451, '4.4.1', 'connection failed')),
          policy,
          this.now(),
        );
        if (downUntil)
          this.deps.logger.warn(
            { connector: connector.name, down_until: new Date(downUntil).toISOString() },
            'connector marked down',
          );
      }
      out.push(...result.results);
    }
    return { results: out, unmarked, attempts };
  }

  private logLine(l: {
    direction: 'command' | 'response';
    line: string;
    host: DeliveryHost;
    at: number;
  }): void {
    const w = this.deps.protocolLog;
    if (!w) return;
    if (l.direction === 'command') {
      const sp = l.line.indexOf(' ');
      const verb = sp < 0 ? l.line : l.line.slice(0, sp);
      // AUTH arguments and base64 continuation lines (AUTH LOGIN user/password) never reach the file.
      const red = redactCommand(verb, sp < 0 ? '' : l.line.slice(sp + 1));
      w.write({
        time: l.at,
        cIp: l.host.address,
        csUsername: OUTBOUND_COMMAND,
        csMethod: red.method.toUpperCase(),
        csUriQuery: red.args,
        sPort: l.host.port,
        csBytes: l.line.length + 2,
      });
    } else {
      const code = Number(l.line.slice(0, 3));
      w.write({
        time: l.at,
        cIp: l.host.address,
        csUsername: OUTBOUND_RESPONSE,
        csUriQuery: l.line.slice(4),
        scStatus: Number.isFinite(code) ? code : 0,
        sPort: l.host.port,
        scBytes: l.line.length + 2,
      });
    }
  }
}
