import {
  type SMTPServerAddress,
  type SMTPServerSession,
  type SMTPServerOptions,
} from 'smtp-server';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { VirtualServer } from '@mailbus/config';
import type { ProtocolLogWriter } from '@mailbus/protocol-log';
import { inboundProtocolLogger } from './inbound-protocol-log.js';
import { observeReplies } from './observe-replies.js';
import { LOCAL_DELIVERY } from '@mailbus/queue';
import {
  checkRelay,
  clientAuthenticated,
  type SessionClient,
  routeRecipient,
} from '@mailbus/routing';
import { replies, SmtpRejection } from '@mailbus/smtp';
import { AuthThrottle, type AuthThrottleLimits } from './auth-throttle.js';
import { BackPressure, type BackPressureLimits } from './back-pressure.js';
import { createEtrnHandler, etrnAllowed } from './etrn.js';
import { createTurnaroundHandler } from './atrn.js';
import { ReversedDelivery } from '@mailbus/delivery';
import { drainSmtpServer } from './graceful-drain.js';
import { MailbusSmtpServer } from './mailbus-smtp-server.js';
import { RecipientValidator } from './recipient-validator.js';
import { createLinkStateHandler } from './link-state-command.js';
import type { UserDirectory } from './user-directory.js';
import { checkMailFrom, checkRcptTo, envelopeFacts, jobRecipient } from './envelope-checks.js';
import { receiveMessage, type IngressDataDeps } from './receive-message.js';
import { newSessionState, RelayTrust, type SessionState } from './session-state.js';
import { hook, toSmtpError } from './smtp-hooks.js';

export interface SmtpIngressDeps extends IngressDataDeps {
  protocolLog?: ProtocolLogWriter;
  users?: UserDirectory;
  /** `ca`: ask TLS clients for a certificate and verify it against this (tls.clientCa). */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer };
  /** Back-pressure limits (defaults in back-pressure.ts). */
  backPressure?: Partial<BackPressureLimits>;
  /** AUTH failure throttling (defaults in auth-throttle.ts). */
  authThrottle?: Partial<AuthThrottleLimits>;
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
  private readonly relay: RelayTrust;
  private closing = false;
  private closed: Promise<void> | undefined;
  readonly vs: VirtualServer;
  readonly backPressure: BackPressure;
  private readonly authThrottle: AuthThrottle;
  private readonly recipients: RecipientValidator;

  constructor(private readonly deps: SmtpIngressDeps) {
    this.vs = deps.virtualServer;
    this.relay = new RelayTrust(this.vs);
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
        receiveMessage(
          this.deps,
          stream,
          session,
          this.state(session),
          this.trustsSite(session),
        ).then(
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
      s = newSessionState(session);
      this.sessions.set(session.id, s);
    }
    return s;
  }

  /** How the session's client identified itself: relay.allow, AUTH, a verified certificate. */
  private client(session: SMTPServerSession): SessionClient {
    return this.relay.client(session, this.sessions.get(session.id));
  }

  /** A client whose site headers and link state are believed, by the virtual server's siteTrust. */
  private trustsSite(session: SMTPServerSession): boolean {
    return this.relay.trustsSite(session, this.sessions.get(session.id));
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
    checkMailFrom(this.vs, address, session, s);
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    checkRcptTo(this.vs, address, session);
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
      envelopeFacts(this.vs.name, sender, s.declaredSize, 'normal'),
      recipient,
      down,
    );
    if (d.kind === 'rejected') {
      // Priority is not known before DATA: reject now only if no priority could route it.
      const other = (['high', 'low'] as const).map((p) =>
        routeRecipient(
          this.deps.config,
          envelopeFacts(this.vs.name, sender, s.declaredSize, p),
          recipient,
          down,
        ),
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
    s.rcpt.set(recipient.toLowerCase(), jobRecipient(address));
  }
}
