import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { isAscii } from 'node:buffer';
import type { Config, VirtualServer } from '@mailbus/config';
import {
  LOCAL_DELIVERY,
  type MailQueue,
  newQueueId,
  type DeliveryJobData,
  type JobRecipient,
  type RecipientGroup,
} from '@mailbus/queue';
import {
  priorityFromHeaders,
  routeRecipient,
  splitByConnector,
  type RouteDecision,
  type SiteTraceContext,
} from '@mailbus/routing';
import { formatReply, replies, SmtpRejection, type SmtpReply } from '@mailbus/smtp';
import {
  extractContext,
  injectContext,
  SpanAttr,
  SpanName,
  withSpan,
  SpanKind,
  SpanStatusCode,
  type Metrics,
  type Span,
  type SpanOutcome,
} from '@mailbus/telemetry';
import type { Logger } from 'pino';
import { envelopeFacts } from './envelope-checks.js';
import { hasBareLineEnding, longestLine, readHeaders } from './message-facts.js';
import type { SessionState } from './session-state.js';
import { siteRoute, siteTraceContext } from './site-route-header.js';

/** A DSN for recipients accepted at RCPT but unroutable once size and priority were known. */
export interface IngressDsnRequest {
  job: DeliveryJobData;
  recipients: Array<{
    recipient: JobRecipient;
    action: 'failed';
    status: string;
    reply: SmtpReply;
  }>;
  now: number;
  dsnId: string;
  original: Buffer;
}

/** What the DATA path needs of the ingress: where it stores and enqueues, and how it routes. */
export interface IngressDataDeps {
  config: Config;
  virtualServer: VirtualServer;
  queue: MailQueue;
  logger: Logger;
  metrics?: Metrics;
  /** Connectors marked down, refreshed by the caller (routing puts them last). */
  downConnectors: () => ReadonlySet<string>;
  /** Queues a DSN (wired by the composition root to the bridgehead's DSN sender). */
  sendDsn?: (req: IngressDsnRequest) => Promise<void>;
}

/** RFC 5321 4.5.3.1.6: a text line is at most 1000 octets, CRLF included. */
const MAX_TEXT_LINE = 998;

/** The TLS protocol and cipher of a session, for the Received header. */
function tlsOf(session: SMTPServerSession): { tls?: { version: string; cipher: string } } {
  const t = session.secure ? session.tlsOptions : undefined;
  return t && t.name ? { tls: { version: t.version ?? 'TLS', cipher: t.name } } : {};
}

/** The final reply on the message's span; a refusal also sets the span's status to ERROR. */
function replyAttributes(span: Span, r: SmtpReply, outcome: SpanOutcome): void {
  span.setAttribute(SpanAttr.Reply, formatReply(r));
  span.setAttribute(SpanAttr.ReplyCode, r.code);
  span.setAttribute(SpanAttr.Outcome, outcome);
  if (r.code >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: formatReply(r) });
}

/** The message as the client sent it, or 552 once it passes the virtual server's size limit. */
async function readBody(vs: VirtualServer, stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    length += b.length;
    if (length <= vs.maxMessageSizeKB * 1024) chunks.push(b);
  }
  if (stream.sizeExceeded || length > vs.maxMessageSizeKB * 1024) {
    throw new SmtpRejection(replies.messageTooBig(vs.maxMessageSizeKB));
  }
  return Buffer.concat(chunks, length);
}

/**
 * DATA: reads the message and accepts it (acceptMessage) in the receive span,
 * which continues a trace another site's bridgehead handed over when `trusted`.
 */
export async function receiveMessage(
  deps: IngressDataDeps,
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  s: SessionState,
  trusted: boolean,
): Promise<SmtpReply> {
  const vs = deps.virtualServer;
  const body = await readBody(vs, stream);
  const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const recipients = session.envelope.rcptTo.map(
    (r) => s.rcpt.get(r.address.toLowerCase()) ?? { address: r.address },
  );
  const id = newQueueId();
  // Another site's bridgehead hands over the trace: this receive span continues it.
  const handed = siteTraceContext(deps.config, body, trusted);
  const parent = handed?.traceparent ? extractContext({ ...handed }) : undefined;
  return withSpan(
    SpanName.SmtpReceive,
    {
      [SpanAttr.QueueId]: id,
      [SpanAttr.Sender]: sender,
      [SpanAttr.RecipientCount]: recipients.length,
      [SpanAttr.Size]: body.length,
      [SpanAttr.VirtualServer]: vs.name,
      [SpanAttr.ClientIp]: s.clientIp,
      [SpanAttr.MessageId]: id,
    },
    async (span) => {
      try {
        const r = await acceptMessage(deps, id, body, sender, recipients, s, session, {
          trusted,
          handed,
        });
        replyAttributes(span, r, 'accepted');
        if (s.lastMessage?.messageId)
          span.setAttribute(SpanAttr.MessageId, s.lastMessage.messageId);
        return r;
      } catch (err) {
        const r = err instanceof SmtpRejection ? err.reply : replies.tempFailure();
        replyAttributes(span, r, 'rejected');
        throw err;
      }
    },
    { kind: SpanKind.SERVER, ...(parent ? { parent } : {}) },
  ).then(
    (r) => {
      deps.metrics?.messagesAccepted.inc({ virtual_server: vs.name });
      return r;
    },
    (err: unknown) => {
      if (!(err instanceof SmtpRejection))
        deps.logger.error({ err, message_id: id }, 'enqueue failed: 451');
      throw err;
    },
  );
}

/**
 * Checks the message, routes each recipient now that size and priority are
 * known, stores the body once and enqueues one job per connector; the reply
 * is 250 only after Redis acknowledged every write.
 */
async function acceptMessage(
  deps: IngressDataDeps,
  id: string,
  raw: Buffer,
  sender: string,
  recipients: JobRecipient[],
  s: SessionState,
  session: SMTPServerSession,
  /** Whether the client's site headers are believed, and the trace context it handed over. */
  from: { trusted: boolean; handed: SiteTraceContext | undefined },
): Promise<SmtpReply> {
  const vs = deps.virtualServer;
  let body = raw;
  if (hasBareLineEnding(body)) throw new SmtpRejection(replies.bareLineEnding());
  if (body.includes(0)) throw new SmtpRejection(replies.nulInMessage());
  if (longestLine(body) > MAX_TEXT_LINE) throw new SmtpRejection(replies.lineTooLong());
  const head = readHeaders(body, vs.maxHeaderSizeKB * 1024);
  s.lastMessage = { bytes: body.length, messageId: head.messageId };
  if (head.headerBytes > vs.maxHeaderSizeKB * 1024) throw new SmtpRejection(replies.headerTooBig());
  if (head.receivedCount > vs.maxHops)
    throw new SmtpRejection(replies.tooManyHops(head.receivedCount));
  const priority = priorityFromHeaders(head.headers);
  const site = siteRoute(deps.config, vs.name, body, head, from.trusted, from.handed);
  if (site?.visited.includes(site.here)) throw new SmtpRejection(replies.routingLoop(site.here));
  if (site) body = site.body;
  const facts = envelopeFacts(vs.name, sender, body.length, priority, site?.visited);
  const down = deps.downConnectors();
  const split = withSpan(
    SpanName.Route,
    { [SpanAttr.QueueId]: id, [SpanAttr.RecipientCount]: recipients.length },
    (span) => {
      const decisions: RouteDecision[] = recipients.map((r) =>
        routeRecipient(deps.config, facts, r.address, down),
      );
      const result = splitByConnector(decisions);
      span.setAttribute(SpanAttr.Connector, result.connectors.map((g) => g.connector).join(','));
      span.setAttribute(SpanAttr.RejectedCount, result.rejected.length);
      return result;
    },
  );
  const byAddress = new Map(recipients.map((r) => [r.address.toLowerCase(), r]));
  const rcpt = (a: string): JobRecipient => byAddress.get(a.toLowerCase()) ?? { address: a };
  const groups: RecipientGroup[] = [];
  for (const g of split.connectors) {
    const plans = new Map<string, RecipientGroup>();
    for (const route of g.routes) {
      const plan = route.candidates.map((c) => c.name);
      const key = plan.join('\u0000');
      let group = plans.get(key);
      if (!group) {
        group = { plan, recipients: [] };
        plans.set(key, group);
        groups.push(group);
      }
      group.recipients.push(rcpt(route.recipient));
    }
  }
  for (const l of split.local) {
    groups.push({
      plan: [LOCAL_DELIVERY],
      recipients: l.recipients.map(rcpt),
      mailboxHosts: l.mailboxHosts,
    });
  }
  if (groups.length === 0) {
    // Every recipient became unroutable once size and priority were known.
    throw new SmtpRejection(split.rejected[0]?.reply ?? replies.noRoute('(none)'));
  }
  const indexTerms = [
    sender,
    ...recipients.map((r) => r.address),
    ...(head.messageId ? [head.messageId] : []),
    ...(site?.from ? [site.from.queueId] : []),
  ].filter((t) => t !== '');
  // Written with the body, before the job adds on the same connection, so Redis
  // stores 'received' before any bridgehead can pick the job up and record its attempt.
  const received = deps.queue.tracking.prepare(
    id,
    {
      type: 'received',
      recipients: recipients.map((r) => r.address),
      detail: `from ${sender || '<>'} via ${vs.name} client ${s.clientIp} size ${body.length}${site?.from ? ` from routing group ${site.from.site} as ${site.from.queueId}` : ''}`,
    },
    indexTerms,
  );
  const trace = injectContext();
  // The Redis writes (body once, one job per connector, durability wait) as their own span.
  await withSpan(
    SpanName.Enqueue,
    { [SpanAttr.QueueId]: id, [SpanAttr.RecipientCount]: recipients.length },
    () =>
      deps.queue
        .submit({
          id,
          body,
          sender,
          receivedAt: Date.now(),
          priority,
          system: sender === '',
          virtualServer: vs.name,
          groups,
          trace,
          received,
          client: {
            ip: s.clientIp,
            helo: s.helo || session.hostNameAppearsAs || '',
            secure: session.secure,
            ...(typeof session.user === 'string' ? { user: session.user } : {}),
            ...tlsOf(session),
          },
          ...(head.messageId ? { headerMessageId: head.messageId } : {}),
          ...(s.envId ? { envId: s.envId } : {}),
          ...(s.ret ? { ret: s.ret } : {}),
          // Declared, or found: a client that sends 8-bit octets without BODY=8BITMIME
          // still gets its body made 7-bit for a next hop without 8BITMIME.
          ...(session.envelope.bodyType === '8bitmime' || !isAscii(body) ? { body8bit: true } : {}),
          ...(session.envelope.smtpUtf8 ? { smtpUtf8: true } : {}),
        })
        .catch((err: unknown) => {
          void deps.queue.tracking.record(id, {
            type: 'failed',
            reply: formatReply(replies.tempFailure()),
            detail: 'not queued: the client was answered 451 and will retry',
          });
          throw err;
        }),
  );
  deps.logger.info(
    {
      message_id: id,
      header_message_id: head.messageId,
      sender,
      recipients: recipients.length,
      size: body.length,
      connectors: groups.map((g) => g.plan[0]),
    },
    'message queued',
  );
  if (split.rejected.length > 0)
    await bounceUnroutable(
      deps,
      id,
      body,
      sender,
      split.rejected.map((r) => ({ recipient: rcpt(r.recipient), reply: r.reply })),
      s,
      session,
    );
  return replies.queued(id);
}

/**
 * Recipients accepted at RCPT (size or priority not known yet) but
 * unroutable once the message was read: the message is accepted for the
 * others and these get a DSN with the routing reply (DESIGN: "else by DSN").
 */
async function bounceUnroutable(
  deps: IngressDataDeps,
  id: string,
  body: Buffer,
  sender: string,
  rejected: Array<{ recipient: JobRecipient; reply: SmtpReply }>,
  s: SessionState,
  session: SMTPServerSession,
): Promise<void> {
  const vs = deps.virtualServer;
  void deps.queue.tracking.record(id, {
    type: 'failed',
    recipients: rejected.map((r) => r.recipient.address),
    reply: formatReply(rejected[0]?.reply ?? replies.noRoute('')),
    detail: 'unroutable once size and priority were known',
  });
  if (!deps.sendDsn) return;
  const job: DeliveryJobData = {
    v: 1,
    messageId: id,
    sender,
    recipients: rejected.map((r) => r.recipient),
    size: body.length,
    receivedAt: Date.now(),
    priority: 'normal',
    system: sender === '',
    virtualServer: vs.name,
    plan: [],
    planIndex: 0,
    round: 0,
    branch: 0,
    hop: 0,
    attempts: [],
    trace: injectContext(),
    client: {
      ip: s.clientIp,
      helo: s.helo || session.hostNameAppearsAs || '',
      secure: session.secure,
      ...(typeof session.user === 'string' ? { user: session.user } : {}),
    },
    ...(s.envId ? { envId: s.envId } : {}),
    ...(s.ret ? { ret: s.ret } : {}),
  };
  try {
    await deps.sendDsn({
      job,
      now: Date.now(),
      dsnId: `${id}.unroutable`,
      original: body,
      recipients: rejected.map((r) => ({
        recipient: r.recipient,
        action: 'failed',
        status: r.reply.enhanced || '5.4.4',
        reply: r.reply,
      })),
    });
  } catch (err) {
    // The message was accepted for the others; a DSN we cannot queue now is logged, not a 451 for them all.
    deps.logger.error({ err, message_id: id }, 'could not queue the DSN for unroutable recipients');
  }
}
