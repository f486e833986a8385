import type { Config, Connector, VirtualServer } from '@mailbus/config';
import {
  resolveNextHops,
  type DeliveryHost,
  type OutboundDelivery,
  type OutboundSecurity,
  type RecipientResult,
} from '@mailbus/delivery';
import { writeOutboundLine, type ProtocolLogWriter } from '@mailbus/protocol-log';
import {
  LOCAL_DELIVERY,
  type DeliveryJobData,
  type JobRecipient,
  type MailQueue,
  type TrackingWrite,
} from '@mailbus/queue';
import { formatReply, reply } from '@mailbus/smtp';
import {
  SpanAttr,
  SpanKind,
  SpanName,
  SpanStatusCode,
  withSpan,
  type Metrics,
} from '@mailbus/telemetry';
import type { Logger } from 'pino';
import { etrnAfterDelivery } from './etrn-after-delivery.js';
import { turnAfterDelivery, type ReceiveOn } from './turn-after-delivery.js';
import { receivedHeader, receivingFqdn } from './received-header.js';
import { outgoingBody } from './site-headers-out.js';
import { hasSites } from '@mailbus/routing';

export interface SendAttemptsDeps {
  config: Config;
  virtualServer: VirtualServer;
  queue: MailQueue;
  outbound: OutboundDelivery;
  logger: Logger;
  protocolLog?: ProtocolLogWriter;
  /** Names and addresses of this organisation's own ingress: a next hop equal to one is a loop. */
  ownHosts: ReadonlySet<string>;
  /** The connector's Outbound Security with its secrets resolved (outbound-security.ts). */
  security: (c: Connector | undefined) => OutboundSecurity;
  random?: () => number;
  now: () => number;
  /** Counts ETRN requests (advanced.request: etrn). */
  metrics?: Metrics;
  /** Receives on a connection TURN/ATRN reversed (advanced.request: turn). */
  receiveOn?: ReceiveOn;
}

/** What the SMTP transactions of one job gave. */
export interface SendOutcome {
  results: RecipientResult[];
  /** Recipients of the last transaction whose delivered marks the caller writes. */
  unmarked: string[];
  /** The last transaction's 'attempt' event, for the caller to write with its next step. */
  attempts: TrackingWrite[];
  /** The host of the last transaction that reached one, for the delivery log line. */
  host?: DeliveryHost;
  /** Connection set-up and transmission time over every transaction (ms). */
  timing: { connectMs: number; transmitMs: number };
}

/**
 * The SMTP side of a job: resolve the next hops of its pending recipients,
 * run one transaction per hop group, record each success the moment the
 * remote 250 arrives, and report connection failures to the link state.
 */
export class SendAttempts {
  /** Routing groups are sites: outgoing mail carries or loses the site headers. */
  private readonly sites: boolean;

  constructor(private readonly deps: SendAttemptsDeps) {
    this.sites = hasSites(deps.config);
  }

  async run(
    data: DeliveryJobData,
    connector: Connector | undefined,
    pending: JobRecipient[],
    body: Buffer,
  ): Promise<SendOutcome> {
    const { virtualServer: vs, queue } = this.deps;
    const name = connector?.name ?? LOCAL_DELIVERY;
    const groups = await resolveNextHops({
      recipients: pending,
      connector,
      mailboxHosts: data.mailboxHosts,
      defaultPort: vs.outbound.port,
      ownHosts: this.deps.ownHosts,
      ...(this.deps.random ? { random: this.deps.random } : {}),
    });
    const out: RecipientResult[] = [];
    let unmarked: string[] = [];
    let attempts: TrackingWrite[] = [];
    let host: DeliveryHost | undefined;
    const timing = { connectMs: 0, transmitMs: 0 };
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
      // Timed now, written with what follows the transaction (one round trip fewer).
      const attempt = queue.tracking.prepare(data.messageId, {
        type: 'attempt',
        connector: name,
        recipients: g.recipients.map((r) => r.address),
        host: g.hosts.map((h) => `${h.name}:${h.port}`).join(','),
      });
      const result = await this.transaction(data, connector, g.hosts, g.recipients, body);
      host = result.host ?? host ?? g.hosts[g.hosts.length - 1];
      timing.connectMs += result.timing.connectMs;
      timing.transmitMs += result.timing.transmitMs;
      // Record success at once, before the next group or host: a crash from here
      // on must not re-send to these recipients (at-least-once, smallest window).
      const ok = result.results.filter((r) => r.status === 'delivered').map((r) => r.recipient);
      if (i === groups.length - 1 && !result.connectionFailure) {
        unmarked = ok;
        attempts = [attempt];
      } else {
        void queue.tracking.write(data.messageId, attempt).catch(() => undefined);
        if (ok.length > 0) await queue.store.markDelivered(data.messageId, ok, this.deps.now());
      }
      if (result.connectionFailure && connector) await this.linkFailed(connector, result.results);
      out.push(...result.results);
    }
    return { results: out, unmarked, attempts, timing, ...(host ? { host } : {}) };
  }

  /** One SMTP transaction (over the hosts in order) as a child span of the attempt. */
  private transaction(
    data: DeliveryJobData,
    connector: Connector | undefined,
    hosts: DeliveryHost[],
    recipients: JobRecipient[],
    body: Buffer,
  ) {
    const vs = this.deps.virtualServer;
    const name = connector?.name ?? LOCAL_DELIVERY;
    const received = receivedHeader({
      client: data.client,
      byFqdn: receivingFqdn(this.deps.config, data.virtualServer) ?? vs.fqdn,
      queueId: data.messageId,
      receivedAt: data.receivedAt,
      ...(recipients.length === 1 ? { recipient: recipients[0]?.address as string } : {}),
    });
    const log = this.deps.protocolLog;
    return withSpan(
      SpanName.SmtpSend,
      { [SpanAttr.Connector]: name, [SpanAttr.RecipientCount]: recipients.length },
      async (span) => {
        const r = await this.deps.outbound.deliver({
          connector: name,
          hosts,
          heloName: vs.fqdn,
          heloInsteadOfEhlo: connector?.heloInsteadOfEhlo ?? false,
          sender: data.sender,
          recipients,
          body: this.sites
            ? outgoingBody(
                connector,
                { group: vs.routingGroup, queueId: data.messageId },
                received,
                body,
              )
            : Buffer.concat([received, body]),
          ...(data.envId ? { envId: data.envId } : {}),
          ...(data.ret ? { ret: data.ret } : {}),
          ...(data.body8bit ? { body8bit: true } : {}),
          ...(data.smtpUtf8 ? { smtpUtf8: true } : {}),
          security: this.deps.security(connector),
          ...(log ? { onProtocol: (l) => writeOutboundLine(log, l) } : {}),
          ...etrnAfterDelivery(connector, data.messageId, this.deps),
          ...turnAfterDelivery(connector, data.messageId, vs.name, this.deps),
        });
        if (r.host) span.setAttribute(SpanAttr.RemoteHost, `${r.host.name}:${r.host.port}`);
        const first = r.results[0];
        if (first) {
          span.setAttribute(SpanAttr.Reply, formatReply(first.reply));
          span.setAttribute(SpanAttr.ReplyCode, first.reply.code);
          if (first.status !== 'delivered')
            span.setStatus({ code: SpanStatusCode.ERROR, message: formatReply(first.reply) });
        }
        return r;
      },
      { kind: SpanKind.CLIENT },
    );
  }

  private async linkFailed(connector: Connector, results: RecipientResult[]): Promise<void> {
    const downUntil = await this.deps.queue.links.recordFailure(
      connector.name,
      formatReply(results[0]?.reply ?? reply(451, '4.4.1', 'connection failed')),
      connector.linkState,
      this.deps.now(),
    );
    if (downUntil)
      this.deps.logger.warn(
        { connector: connector.name, down_until: new Date(downUntil).toISOString() },
        'connector marked down',
      );
  }
}
