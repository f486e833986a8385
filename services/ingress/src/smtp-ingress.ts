import {
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
  type SMTPServerOptions,
} from 'smtp-server';
import { isAscii } from 'node:buffer';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Config, VirtualServer } from '@mailbus/config';
import type { ProtocolLogWriter } from '@mailbus/protocol-log';
import { inboundProtocolLogger, type LoggedSession } from './inbound-protocol-log.js';
import { observeReplies } from './observe-replies.js';
import {
  LOCAL_DELIVERY,
  type MailQueue,
  newQueueId,
  type DeliveryJobData,
  type JobRecipient,
  type RecipientGroup,
} from '@mailbus/queue';
import {
  buildIpList,
  checkRelay,
  clientAuthenticated,
  ipInList,
  trustsSite,
  type SessionClient,
  priorityFromHeaders,
  routeRecipient,
  splitByConnector,
  type MessageFacts,
  type Priority,
  type RouteDecision,
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
import { AuthThrottle, type AuthThrottleLimits } from './auth-throttle.js';
import { BackPressure, type BackPressureLimits } from './back-pressure.js';
import { createEtrnHandler, etrnAllowed } from './etrn.js';
import { createTurnaroundHandler } from './atrn.js';
import { ReversedDelivery } from '@mailbus/delivery';
import { drainSmtpServer } from './graceful-drain.js';
import { MailbusSmtpServer } from './mailbus-smtp-server.js';
import { RecipientValidator } from './recipient-validator.js';
import { hasBareLineEnding, longestLine, readHeaders } from './message-facts.js';
import { siteRoute, siteTraceContext } from './site-route-header.js';
import type { SiteTraceContext } from '@mailbus/routing';
import { createLinkStateHandler } from './link-state-command.js';
import type { UserDirectory } from './user-directory.js';

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

export interface SmtpIngressDeps {
  config: Config;
  virtualServer: VirtualServer;
  queue: MailQueue;
  logger: Logger;
  metrics?: Metrics;
  protocolLog?: ProtocolLogWriter;
  users?: UserDirectory;
  /** Connectors marked down, refreshed by the caller (routing puts them last). */
  downConnectors: () => ReadonlySet<string>;
  /** Queues a DSN (wired by the composition root to the bridgehead's DSN sender). */
  sendDsn?: (req: IngressDsnRequest) => Promise<void>;
  /** `ca`: ask TLS clients for a certificate and verify it against this (tls.clientCa). */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer };
  /** Back-pressure limits (defaults in back-pressure.ts). */
  backPressure?: Partial<BackPressureLimits>;
  /** AUTH failure throttling (defaults in auth-throttle.ts). */
  authThrottle?: Partial<AuthThrottleLimits>;
}

interface SessionState extends LoggedSession {
  clientIp: string;
  localIp: string;
  localPort: number;
  helo: string;
  declaredSize?: number;
  envId?: string;
  ret?: 'FULL' | 'HDRS';
  rcpt: Map<string, JobRecipient>;
  /** In TLS the client presented a certificate that verified against tls.clientCa. */
  verifiedCertificate?: boolean;
}

/** Turns anything thrown in a hook into smtp-server's error: a rejection keeps its reply, the rest is 451 4.3.0. */
function toSmtpError(err: unknown): Error & { responseCode: number } {
  const r: SmtpReply = err instanceof SmtpRejection ? err.reply : replies.tempFailure();
  return Object.assign(new Error(r.enhanced ? `${r.enhanced} ${r.text}` : r.text), {
    responseCode: r.code,
  });
}

/** The TLS protocol and cipher of a session, for the Received header. */
function tlsOf(session: SMTPServerSession): { tls?: { version: string; cipher: string } } {
  const t = session.secure ? session.tlsOptions : undefined;
  return t && t.name ? { tls: { version: t.version ?? 'TLS', cipher: t.name } } : {};
}

function hook<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: [...A, (err?: Error | null) => void]) => void {
  return (...args) => {
    const cb = args.pop() as (err?: Error | null) => void;
    fn(...(args as unknown as A)).then(
      () => cb(),
      (err: unknown) => cb(toSmtpError(err)),
    );
  };
}

/** The final reply on the message's span; a refusal also sets the span's status to ERROR. */
function replyAttributes(span: Span, r: SmtpReply, outcome: SpanOutcome): void {
  span.setAttribute(SpanAttr.Reply, formatReply(r));
  span.setAttribute(SpanAttr.ReplyCode, r.code);
  span.setAttribute(SpanAttr.Outcome, outcome);
  if (r.code >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: formatReply(r) });
}

const ASCII_ADDRESS = /^[\x21-\x7e]*$/;
/** ESMTP parameters this server advertises (RFC 1870, 6152, 6531, 3461, 4954); anything else is 555 5.5.4. */
const MAIL_PARAMETERS = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH']);
const RCPT_PARAMETERS = new Set(['NOTIFY', 'ORCPT']);
/** RFC 5321 4.5.3.1.6: a text line is at most 1000 octets, CRLF included. */
const MAX_TEXT_LINE = 998;

function unknownParameter(args: unknown, known: ReadonlySet<string>): string | undefined {
  if (!args || typeof args !== 'object') return undefined;
  return Object.keys(args).find((k) => !known.has(k.toUpperCase()));
}

/**
 * One SMTP virtual server on this node: accepts mail, checks relay and limits,
 * routes each recipient, stores the body once and enqueues one job per
 * connector, and answers 250 only after Redis acknowledged every write.
 */
export class SmtpIngress {
  private readonly server: MailbusSmtpServer;
  private readonly sessions = new Map<string, SessionState>();
  private readonly perIp = new Map<string, number>();
  private readonly relayList;
  private readonly relayByIp = new Map<string, boolean>();
  private closing = false;
  private closed: Promise<void> | undefined;
  readonly vs: VirtualServer;
  readonly backPressure: BackPressure;
  private readonly authThrottle: AuthThrottle;
  private readonly recipients: RecipientValidator;

  constructor(private readonly deps: SmtpIngressDeps) {
    this.vs = deps.virtualServer;
    this.relayList = buildIpList(this.vs.relay.allow);
    this.backPressure = new BackPressure(deps.queue, deps.backPressure);
    this.authThrottle = new AuthThrottle(deps.queue, deps.authThrottle);
    this.recipients = new RecipientValidator(deps.config, deps.queue, {
      heloName: this.vs.fqdn,
      defaultPort: this.vs.outbound.port,
      logger: deps.logger,
    });
    const vs = this.vs;
    const plaintextAuth = vs.auth?.allowPlaintext ?? false;
    const options: SMTPServerOptions = {
      name: vs.fqdn,
      banner: 'mailbus',
      size: vs.maxMessageSizeKB * 1024,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      hideSMTPUTF8: false,
      hide8BITMIME: false,
      hidePIPELINING: false,
      hideREQUIRETLS: true,
      // No reverse DNS per session (Exchange does none by default): a slow resolver would delay the greeting.
      disableReverseLookup: true,
      authOptional: true,
      authMethods: ['PLAIN', 'LOGIN', ...(deps.users?.offersCramMd5() ? ['CRAM-MD5'] : [])],
      allowInsecureAuth: plaintextAuth,
      disabledCommands: [...(deps.users ? [] : ['AUTH']), ...(deps.tls ? [] : ['STARTTLS'])],
      hideSTARTTLS: !deps.tls,
      ...(deps.tls
        ? { key: deps.tls.key, cert: deps.tls.cert, secure: vs.tls?.implicit ?? false }
        : {}),
      // A certificate is asked for and judged, never required: one that does not verify
      // only leaves the session unauthenticated (smtp-server passes these to tls).
      ...(deps.tls?.ca ? { ca: deps.tls.ca, requestCert: true, rejectUnauthorized: false } : {}),
      maxClients: vs.limits.maxConnections,
      socketTimeout: vs.limits.socketTimeout,
      closeTimeout: 30_000,
      useXClient: false,
      useXForward: false,
      logger: inboundProtocolLogger(
        this.deps.protocolLog,
        (cid) => this.sessions.get(cid),
        observeReplies(this.deps.metrics, this.deps.logger, vs.name),
      ),
      onConnect: hook(async (session: SMTPServerSession) => this.onConnect(session)),
      onSecure: (socket, session, cb) => {
        if ((socket as TLSSocket).authorized) this.state(session).verifiedCertificate = true;
        cb();
      },
      onAuth: (auth, session, cb) => {
        const cram =
          auth.method === 'CRAM-MD5'
            ? { challenge: auth.challenge ?? '', response: auth.challengeResponse ?? '' }
            : undefined;
        this.onAuth(auth.method, auth.username ?? '', cram ?? auth.password ?? '', session).then(
          (user) => cb(null, { user }),
          (err: unknown) => cb(toSmtpError(err)),
        );
      },
      onMailFrom: hook(async (address: SMTPServerAddress, session: SMTPServerSession) =>
        this.onMailFrom(address, session),
      ),
      onRcptTo: hook(async (address: SMTPServerAddress, session: SMTPServerSession) =>
        this.onRcptTo(address, session),
      ),
      onData: (stream, session, cb) => {
        this.onData(stream, session).then(
          (r) => cb(null, `${r.enhanced} ${r.text}`),
          (err: unknown) => cb(toSmtpError(err)),
        );
      },
      onClose: (session) => this.onClose(session),
    };
    this.server = new MailbusSmtpServer(options, {
      greetingDelayMs: vs.limits.greetingDelay,
      allowPlaintextAuth: plaintextAuth,
      etrnAllowed: etrnAllowed(vs),
      onEtrn: createEtrnHandler(deps),
      ...(deps.users && deps.config.connectors.some((c) => c.delivery.triggerAccounts.length > 0)
        ? {
            turnaround: {
              handler: createTurnaroundHandler({
                ...deps,
                delivery: new ReversedDelivery(),
              }),
              mayCollect: (user: string) => deps.queue.held.collectable(user).length > 0,
            },
          }
        : {}),
      onLinkState: createLinkStateHandler({
        config: deps.config,
        virtualServer: vs.name,
        queue: deps.queue,
        trusted: (session) => this.trustsSite(session),
      }),
    });
    this.server.on('error', (err) => deps.logger.warn({ err }, 'smtp server error'));
  }

  /** The address SMTP listens on, once listening. */
  address(): { host: string; port: number } | undefined {
    const a = this.server.server.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.server.off('error', reject);
        this.backPressure.start();
        resolve();
      });
    });
  }

  /**
   * Receives mail on a connection that is already open: one mailbus made
   * itself, after TURN or ATRN (RFC 2645) reversed the roles. mailbus greets
   * with 220 and the peer delivers as any client of this virtual server's
   * listener would: the same limits, relay rules, routing, and 250 only once
   * the message is durable on Redis. Resolves when the session ends.
   */
  receiveOn(socket: Socket | TLSSocket): Promise<void> {
    if (this.closing) {
      socket.destroy();
      return Promise.resolve();
    }
    return this.server.adopt(socket);
  }

  /**
   * Graceful drain: stops listening, lets open transactions finish (up to the virtual server's
   * `limits.drainTimeout`, 30 s by default), then 421 4.3.2.
   */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.backPressure.stop();
      const shuttingDown = replies.shuttingDown(this.vs.fqdn);
      this.closed = drainSmtpServer(this.server, {
        graceMs: this.vs.limits.drainTimeout,
        shuttingDown,
      });
    }
    return this.closed;
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  private state(session: SMTPServerSession): SessionState {
    let s = this.sessions.get(session.id);
    if (!s) {
      s = {
        clientIp: session.remoteAddress,
        localIp: session.localAddress,
        localPort: session.localPort,
        helo: session.hostNameAppearsAs ?? '',
        rcpt: new Map(),
      };
      this.sessions.set(session.id, s);
    }
    return s;
  }

  /** How the session's client identified itself: relay.allow, AUTH, a verified certificate. */
  private client(session: SMTPServerSession): SessionClient {
    return {
      relayAllowed: this.relayAllowed(session.remoteAddress),
      authUser: Boolean(session.user),
      verifiedCertificate: this.sessions.get(session.id)?.verifiedCertificate === true,
    };
  }

  /** A client whose site headers and link state are believed, by the virtual server's siteTrust. */
  private trustsSite(session: SMTPServerSession): boolean {
    return trustsSite(this.vs.siteTrust, this.client(session));
  }

  /** relay.allow for a client IP, remembered for the last 1024 IPs (BlockList.check is not cheap). */
  private relayAllowed(ip: string): boolean {
    let ok = this.relayByIp.get(ip);
    if (ok === undefined) {
      ok = ipInList(this.relayList, ip);
      if (this.relayByIp.size >= 1024) this.relayByIp.clear();
      this.relayByIp.set(ip, ok);
    }
    return ok;
  }

  private async onConnect(session: SMTPServerSession): Promise<void> {
    if (this.closing) throw new SmtpRejection(replies.shuttingDown(this.vs.fqdn));
    const n = (this.perIp.get(session.remoteAddress) ?? 0) + 1;
    if (n > this.vs.limits.maxConnectionsPerIp)
      throw new SmtpRejection(replies.tooManyConnections(this.vs.fqdn));
    this.perIp.set(session.remoteAddress, n);
    this.state(session);
    this.deps.metrics?.smtpSessionsOpen.inc({ virtual_server: this.vs.name });
  }

  private onClose(session: SMTPServerSession): void {
    if (!this.sessions.has(session.id)) return;
    this.sessions.delete(session.id);
    const n = (this.perIp.get(session.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(session.remoteAddress);
    else this.perIp.set(session.remoteAddress, n);
    this.deps.metrics?.smtpSessionsOpen.dec({ virtual_server: this.vs.name });
  }

  private async onAuth(
    method: string,
    username: string,
    password: string | { challenge: string; response: string },
    session: SMTPServerSession,
  ): Promise<string> {
    if (!session.secure && !this.vs.auth?.allowPlaintext)
      throw new SmtpRejection(replies.encryptionRequired());
    const ip = session.remoteAddress;
    if (await this.authThrottle.blocked(ip)) throw new SmtpRejection(replies.authThrottled());
    const users = this.deps.users;
    const ok =
      typeof password === 'string'
        ? await users?.verify(username, password)
        : users?.verifyCramMd5(username, password.challenge, password.response);
    if (!ok) {
      await this.authThrottle.failed(ip);
      this.deps.logger.warn({ client_ip: ip, method }, 'authentication failed');
      throw new SmtpRejection(replies.authFailed());
    }
    return username;
  }

  private async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    s.rcpt = new Map();
    if (this.closing) throw new SmtpRejection(replies.shuttingDown(this.vs.fqdn)); // draining
    if (this.backPressure.memoryPressure) throw new SmtpRejection(replies.insufficientStorage());
    const args = (address.args || {}) as Record<string, string>;
    const unknown = unknownParameter(address.args, MAIL_PARAMETERS);
    if (unknown !== undefined) throw new SmtpRejection(replies.unknownParameter(unknown));
    if (!ASCII_ADDRESS.test(address.address) && !('SMTPUTF8' in args)) {
      throw new SmtpRejection(replies.addressNeedsSmtputf8());
    }
    const size = args.SIZE !== undefined ? Number(args.SIZE) : undefined;
    if (size !== undefined && Number.isFinite(size)) {
      if (size > this.vs.maxMessageSizeKB * 1024)
        throw new SmtpRejection(replies.messageTooBig(this.vs.maxMessageSizeKB));
      s.declaredSize = size;
    } else {
      delete s.declaredSize;
    }
    const dsn = session.envelope.dsn;
    if (dsn?.envid) s.envId = dsn.envid;
    else delete s.envId;
    if (dsn?.ret) s.ret = dsn.ret === 'FULL' ? 'FULL' : 'HDRS';
    else delete s.ret;
  }

  private facts(
    sender: string,
    sizeBytes: number | undefined,
    priority: Priority,
    visitedGroups: readonly string[] = [],
  ): MessageFacts {
    return {
      sender,
      priority,
      system: sender === '',
      virtualServer: this.vs.name,
      ...(visitedGroups.length > 0 ? { visitedGroups } : {}),
      ...(sizeBytes !== undefined ? { sizeKB: Math.ceil(sizeBytes / 1024) } : {}),
    };
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    const unknown = unknownParameter(address.args, RCPT_PARAMETERS);
    if (unknown !== undefined) throw new SmtpRejection(replies.unknownParameter(unknown));
    if (
      !ASCII_ADDRESS.test(address.address) &&
      !('SMTPUTF8' in ((session.envelope.mailFrom && session.envelope.mailFrom.args) || {}))
    ) {
      throw new SmtpRejection(replies.addressNeedsSmtputf8());
    }
    if (session.envelope.rcptTo.length >= this.vs.maxRecipientsPerMessage)
      throw new SmtpRejection(replies.tooManyRecipients());
    const recipient = address.address;
    const c = this.client(session);
    const client = { clientIp: session.remoteAddress, authenticated: clientAuthenticated(c) };
    const relayByIp = c.relayAllowed;
    if (!relayByIp && !checkRelay(this.deps.config, this.vs.name, client, recipient)) {
      throw new SmtpRejection(replies.unableToRelay());
    }
    const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const down = this.deps.downConnectors();
    const d = routeRecipient(
      this.deps.config,
      this.facts(sender, s.declaredSize, 'normal'),
      recipient,
      down,
    );
    if (d.kind === 'rejected') {
      // Priority is not known before DATA: reject now only if no priority could route it.
      const other = (['high', 'low'] as const).map((p) =>
        routeRecipient(this.deps.config, this.facts(sender, s.declaredSize, p), recipient, down),
      );
      if (other.every((o) => o.kind === 'rejected')) throw new SmtpRejection(d.reply);
    }
    const first =
      d.kind === 'connectors'
        ? d.candidates[0]?.name
        : d.kind === 'local'
          ? LOCAL_DELIVERY
          : undefined;
    if (first !== undefined && this.backPressure.connectorFull(first))
      throw new SmtpRejection(replies.queueFull(first));
    if (d.kind === 'local') await this.recipients.check(recipient);
    const dsn = (address as SMTPServerAddress & { dsn?: { notify?: string[]; orcpt?: string } })
      .dsn;
    s.rcpt.set(recipient.toLowerCase(), {
      address: recipient,
      ...(dsn?.orcpt ? { orcpt: dsn.orcpt } : {}),
      ...(dsn?.notify ? { notify: dsn.notify as JobRecipient['notify'] } : {}),
    });
  }

  private async readBody(stream: SMTPServerDataStream): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      length += b.length;
      if (length <= this.vs.maxMessageSizeKB * 1024) chunks.push(b);
    }
    if (stream.sizeExceeded || length > this.vs.maxMessageSizeKB * 1024) {
      throw new SmtpRejection(replies.messageTooBig(this.vs.maxMessageSizeKB));
    }
    return Buffer.concat(chunks, length);
  }

  private async onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
  ): Promise<SmtpReply> {
    const s = this.state(session);
    const body = await this.readBody(stream);
    const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const recipients = session.envelope.rcptTo.map(
      (r) => s.rcpt.get(r.address.toLowerCase()) ?? { address: r.address },
    );
    const id = newQueueId();
    // Another site's bridgehead hands over the trace: this receive span continues it.
    const trusted = this.trustsSite(session);
    const handed = siteTraceContext(this.deps.config, body, trusted);
    const parent = handed?.traceparent ? extractContext({ ...handed }) : undefined;
    return withSpan(
      SpanName.SmtpReceive,
      {
        [SpanAttr.QueueId]: id,
        [SpanAttr.Sender]: sender,
        [SpanAttr.RecipientCount]: recipients.length,
        [SpanAttr.Size]: body.length,
        [SpanAttr.VirtualServer]: this.vs.name,
        [SpanAttr.ClientIp]: s.clientIp,
        [SpanAttr.MessageId]: id,
      },
      async (span) => {
        try {
          const r = await this.accept(id, body, sender, recipients, s, session, {
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
        this.deps.metrics?.messagesAccepted.inc({ virtual_server: this.vs.name });
        return r;
      },
      (err: unknown) => {
        if (!(err instanceof SmtpRejection))
          this.deps.logger.error({ err, message_id: id }, 'enqueue failed: 451');
        throw err;
      },
    );
  }

  private async accept(
    id: string,
    raw: Buffer,
    sender: string,
    recipients: JobRecipient[],
    s: SessionState,
    session: SMTPServerSession,
    /** Whether the client's site headers are believed, and the trace context it handed over. */
    from: { trusted: boolean; handed: SiteTraceContext | undefined },
  ): Promise<SmtpReply> {
    let body = raw;
    if (hasBareLineEnding(body)) throw new SmtpRejection(replies.bareLineEnding());
    if (body.includes(0)) throw new SmtpRejection(replies.nulInMessage());
    if (longestLine(body) > MAX_TEXT_LINE) throw new SmtpRejection(replies.lineTooLong());
    const head = readHeaders(body, this.vs.maxHeaderSizeKB * 1024);
    s.lastMessage = { bytes: body.length, messageId: head.messageId };
    if (head.headerBytes > this.vs.maxHeaderSizeKB * 1024)
      throw new SmtpRejection(replies.headerTooBig());
    if (head.receivedCount > this.vs.maxHops)
      throw new SmtpRejection(replies.tooManyHops(head.receivedCount));
    const priority = priorityFromHeaders(head.headers);
    const site = siteRoute(this.deps.config, this.vs.name, body, head, from.trusted, from.handed);
    if (site?.visited.includes(site.here)) throw new SmtpRejection(replies.routingLoop(site.here));
    if (site) body = site.body;
    const facts = this.facts(sender, body.length, priority, site?.visited);
    const down = this.deps.downConnectors();
    const split = withSpan(
      SpanName.Route,
      { [SpanAttr.QueueId]: id, [SpanAttr.RecipientCount]: recipients.length },
      (span) => {
        const decisions: RouteDecision[] = recipients.map((r) =>
          routeRecipient(this.deps.config, facts, r.address, down),
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
    const received = this.deps.queue.tracking.prepare(
      id,
      {
        type: 'received',
        recipients: recipients.map((r) => r.address),
        detail: `from ${sender || '<>'} via ${this.vs.name} client ${s.clientIp} size ${body.length}${site?.from ? ` from routing group ${site.from.site} as ${site.from.queueId}` : ''}`,
      },
      indexTerms,
    );
    const trace = injectContext();
    // The Redis writes (body once, one job per connector, durability wait) as their own span.
    await withSpan(
      SpanName.Enqueue,
      { [SpanAttr.QueueId]: id, [SpanAttr.RecipientCount]: recipients.length },
      () =>
        this.deps.queue
          .submit({
            id,
            body,
            sender,
            receivedAt: Date.now(),
            priority,
            system: sender === '',
            virtualServer: this.vs.name,
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
            ...(session.envelope.bodyType === '8bitmime' || !isAscii(body)
              ? { body8bit: true }
              : {}),
            ...(session.envelope.smtpUtf8 ? { smtpUtf8: true } : {}),
          })
          .catch((err: unknown) => {
            void this.deps.queue.tracking.record(id, {
              type: 'failed',
              reply: formatReply(replies.tempFailure()),
              detail: 'not queued: the client was answered 451 and will retry',
            });
            throw err;
          }),
    );
    this.deps.logger.info(
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
      await this.bounceUnroutable(
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
  private async bounceUnroutable(
    id: string,
    body: Buffer,
    sender: string,
    rejected: Array<{ recipient: JobRecipient; reply: SmtpReply }>,
    s: SessionState,
    session: SMTPServerSession,
  ): Promise<void> {
    void this.deps.queue.tracking.record(id, {
      type: 'failed',
      recipients: rejected.map((r) => r.recipient.address),
      reply: formatReply(rejected[0]?.reply ?? replies.noRoute('')),
      detail: 'unroutable once size and priority were known',
    });
    if (!this.deps.sendDsn) return;
    const job: DeliveryJobData = {
      v: 1,
      messageId: id,
      sender,
      recipients: rejected.map((r) => r.recipient),
      size: body.length,
      receivedAt: Date.now(),
      priority: 'normal',
      system: sender === '',
      virtualServer: this.vs.name,
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
      await this.deps.sendDsn({
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
      this.deps.logger.error(
        { err, message_id: id },
        'could not queue the DSN for unroutable recipients',
      );
    }
  }
}
