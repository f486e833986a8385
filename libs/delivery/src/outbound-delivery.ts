import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { Socket } from 'node:net';
import { coalesceWrites, nextHopBody, reply, type SmtpReply } from '@mailbus/smtp';
import { classifyError } from './classify-error.js';
import { requestEtrn } from './etrn-request.js';
import { HeloSmtpConnection } from './helo-smtp-connection.js';
import { ntlmAuth } from './ntlm-auth.js';
import type {
  DeliveryTimeouts,
  OutboundRequest,
  OutboundResult,
  ProtocolLine,
} from './outbound-types.js';
import { requestTurn } from './turn-request.js';
import type { DeliveryHost } from './resolve-mx.js';
import { transactionOutcome, type TransactionOutcome } from './transaction-outcome.js';
import './fast-data-stream.js';
import {
  PipeliningSmtpConnection,
  setRecipientDsnParams,
  setSmtpUtf8,
} from './pipelining-smtp-connection.js';
import { SmtpPool } from './smtp-pool.js';
import type SmtpConnectionClass from 'nodemailer/lib/smtp-connection/index.js';

type Logger = {
  [k in 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal']: (
    entry: { tnx?: string },
    ...msg: unknown[]
  ) => void;
} & { level(): void };

/**
 * Runs one step of nodemailer's SMTPConnection (connect, login). Such a step
 * reports some failures only as an 'error' or 'end' event, never through its
 * callback (connection refused, a 421 greeting): without listening to them a
 * delivery would wait forever.
 */
function untilDone(
  conn: SMTPConnection,
  start: (done: (err?: Error | null) => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: Error | null) => {
      conn.removeListener('error', onError);
      conn.removeListener('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onError = (err: Error) => finish(err);
    const onEnd = () =>
      finish(
        Object.assign(new Error('Connection closed unexpectedly'), {
          code: 'ECONNECTION',
          command: 'CONN',
        }),
      );
    conn.once('error', onError);
    conn.once('end', onEnd);
    start((err) => finish(err ?? null));
  });
}

/**
 * Outbound SMTP with nodemailer's SMTPConnection: tries the hosts in order,
 * reuses pooled connections, and returns a result per recipient.
 */
export class OutboundDelivery {
  private readonly pool: SmtpPool;
  private readonly listeners = new WeakMap<SMTPConnection, (l: ProtocolLine) => void>();

  constructor(
    private readonly timeouts: DeliveryTimeouts = {
      connectMs: 10_000,
      greetingMs: 30_000,
      socketMs: 60_000,
    },
    /** Idle connections kept per (connector, host, port): a connector's concurrency keeps them all. */
    maxIdlePerHost = 20,
  ) {
    this.pool = new SmtpPool(maxIdlePerHost);
  }

  async deliver(req: OutboundRequest, now: () => number = Date.now): Promise<OutboundResult> {
    const timing = { connectMs: 0, transmitMs: 0 };
    let last: SmtpReply = reply(
      451,
      '4.4.1',
      `No host to deliver to for connector ${req.connector}`,
    );
    for (const host of req.hosts) {
      const key = `${req.connector}|${host.address}|${host.port}|${req.heloInsteadOfEhlo ? 'h' : 'e'}`;
      let outcome: TransactionOutcome | undefined;
      let failed: SmtpReply | undefined;
      for (let fresh = false; ; fresh = true) {
        let got: { conn: SMTPConnection; unchecked: boolean };
        const connecting = now();
        try {
          got = await this.connection(key, host, req, fresh);
          timing.connectMs += now() - connecting;
        } catch (err) {
          timing.connectMs += now() - connecting;
          const c = classifyError(err, host.name);
          if (c.category === 'permanent') {
            // A 5xx greeting or EHLO refusal: final for everyone on this host.
            return {
              host,
              connectionFailure: false,
              timing,
              results: req.recipients.map((r) => ({
                recipient: r.address,
                status: 'permanent',
                reply: c.reply,
                host: host.name,
              })),
            };
          }
          failed = c.reply;
          break;
        }
        const sending = now();
        outcome = await this.transaction(got.conn, host, req);
        timing.transmitMs += now() - sending;
        let reusable = outcome.reusable;
        if (reusable && !outcome.sessionLost && req.etrnDomains?.length) {
          const etrn = await requestEtrn(got.conn, req.etrnDomains, this.timeouts.socketMs);
          req.onEtrn?.(etrn.outcomes, host);
          reusable = etrn.usable;
        }
        if (reusable && !outcome.sessionLost && req.onTurn) {
          const turn = await requestTurn(got.conn, req.turnDomains ?? [], this.timeouts.socketMs);
          req.onTurn(turn, host);
          // After 250 the socket is the caller's: this client no longer owns it.
          reusable = !turn.socket && !(got.conn as unknown as { _destroyed?: boolean })._destroyed;
        }
        if (reusable) this.pool.give(key, got.conn, outcome.clean);
        else got.conn.close();
        // A pooled session reused without RSET that the server had closed meanwhile
        // (idle timeout, 421): once more on a new connection, as RSET would have found out.
        if (got.unchecked && outcome.sessionLost && !fresh) continue;
        break;
      }
      if (!outcome) {
        last = failed ?? last;
        continue;
      }
      if (outcome.connectionLevel) {
        last = outcome.results[0]?.reply ?? last;
        continue;
      }
      return { host, connectionFailure: false, timing, results: outcome.results };
    }
    return {
      connectionFailure: true,
      timing,
      results: req.recipients.map((r) => ({
        recipient: r.address,
        status: 'transient',
        reply: last,
      })),
    };
  }

  /**
   * A connection to the host: a pooled one if there is one (after RSET when its
   * last transaction failed; `unchecked` when it is reused without a command,
   * since the last one ended with 250 and left the session clean), else a new
   * one (always with `fresh`).
   */
  private async connection(
    key: string,
    host: DeliveryHost,
    req: OutboundRequest,
    fresh: boolean,
  ): Promise<{ conn: SMTPConnection; unchecked: boolean }> {
    for (let p = fresh ? undefined : this.pool.take(key); p; p = this.pool.take(key)) {
      const c = p.conn;
      this.listeners.set(c, (l) => req.onProtocol?.({ ...l, host }));
      // After a 250 to DATA the server has reset the transaction (RFC 5321 4.1.1.4):
      // RSET would only cost a round trip per message.
      if (p.clean) return { conn: c, unchecked: true };
      const ok = await untilDone(c, (done) => c.reset(done)).then(
        () => true,
        () => false,
      );
      if (ok) return { conn: c, unchecked: false };
      c.close();
    }
    return { conn: await this.open(host, req), unchecked: false };
  }

  /**
   * A new session to `host` (never pooled), greeted, with TLS and AUTH as
   * `security` says, its lines to `onProtocol`: for ETRN or TURN on a
   * connection time, with no mail to send. The caller closes it.
   */
  openSession(
    host: DeliveryHost,
    o: Pick<OutboundRequest, 'connector' | 'heloName' | 'security' | 'onProtocol'>,
  ): Promise<SMTPConnection> {
    return this.open(host, {
      ...o,
      hosts: [host],
      heloInsteadOfEhlo: false,
      sender: '',
      recipients: [],
      body: Buffer.alloc(0),
    });
  }

  /** A new session to `host`; with `socket`, over that open connection (reversed roles, reversed-delivery.ts). */
  protected async open(
    host: DeliveryHost,
    req: OutboundRequest,
    socket?: Socket,
  ): Promise<SMTPConnection> {
    const Ctor = req.heloInsteadOfEhlo ? HeloSmtpConnection : PipeliningSmtpConnection;
    const listeners = this.listeners;
    // The logger exists before the connection it reports on.
    const self: { conn?: SMTPConnection } = {};
    const emit = (direction: ProtocolLine['direction'], msg: unknown[]) => {
      if (!self.conn) return;
      const fn = listeners.get(self.conn);
      const text = msg.map(String).join(' ');
      if (fn) for (const line of text.split(/\r?\n/)) fn({ direction, line, host, at: Date.now() });
    };
    const noop = () => undefined;
    const logger: Logger = {
      level: noop,
      trace: noop,
      info: noop,
      warn: noop,
      error: noop,
      fatal: noop,
      debug: (entry, ...msg) => {
        if (entry.tnx === 'client') emit('command', msg);
        else if (entry.tnx === 'server') emit('response', msg);
      },
    };
    const sec = req.security;
    const c = new Ctor({
      host: host.address,
      port: host.port,
      secure: false,
      ...(socket ? { connection: socket, secured: true } : {}),
      name: req.heloName,
      ignoreTLS: sec.tls === 'none' || req.heloInsteadOfEhlo,
      requireTLS: sec.tls === 'required',
      opportunisticTLS: sec.tls === 'opportunistic',
      tls: {
        rejectUnauthorized: sec.verifyCertificates,
        servername: host.name,
        ...(sec.clientCertificate ?? {}),
      },
      connectionTimeout: this.timeouts.connectMs,
      greetingTimeout: this.timeouts.greetingMs,
      socketTimeout: this.timeouts.socketMs,
      logger: logger as unknown as boolean,
      transactionLog: true,
      customAuth: { NTLM: ntlmAuth },
    } as ConstructorParameters<typeof SmtpConnectionClass>[0]);
    self.conn = c;
    this.listeners.set(c, (l) => req.onProtocol?.({ ...l, host }));
    c.on('error', () => undefined);
    try {
      await untilDone(c, (done) => c.connect(done));
      // nodemailer leaves Nagle on: the final "." then waits for the peer's delayed ACK
      // (about 40 ms per message, measured in bench/). SMTP lines are small and latency-bound.
      const socket = (c as unknown as { _socket?: unknown })._socket;
      if (socket instanceof Socket) {
        socket.setNoDelay(true);
        // The body and its terminating dot in one write (two system calls per message before).
        coalesceWrites(socket);
      }
      if (sec.auth) {
        const auth = sec.auth;
        const login =
          auth.method === 'ntlm'
            ? { type: 'custom' as const, method: 'NTLM', user: auth.user, pass: auth.pass }
            : { user: auth.user, pass: auth.pass };
        await untilDone(c, (done) => c.login(login, done));
      }
    } catch (err) {
      // A connection that fails before any reply (refused, timed out, reset) still leaves a
      // protocol log line: status 0 and what failed, where a reply would have been.
      const e = err as { code?: string; message?: string };
      emit('response', [
        `000 connection failed: ${e.code ?? 'error'} (${e.message ?? String(err)})`,
      ]);
      c.close();
      throw err;
    }
    return c;
  }

  protected transaction(
    conn: SMTPConnection,
    host: DeliveryHost,
    req: OutboundRequest,
  ): Promise<TransactionOutcome> {
    return new Promise((resolve) => {
      const to = req.recipients.map((r) => r.address);
      // Only a message received 8-bit or SMTPUTF8 is checked against the next hop's extensions.
      const plan =
        req.body8bit || req.smtpUtf8
          ? nextHopBody(
              {
                sender: req.sender,
                recipients: to,
                body: req.body,
                body8bit: req.body8bit === true,
                smtpUtf8: req.smtpUtf8 === true,
              },
              (conn as unknown as { _supportedExtensions?: string[] })._supportedExtensions ?? [],
              host.name,
            )
          : undefined;
      if (plan && !plan.ok) {
        // Refused before MAIL FROM: the session is still clean for the next message.
        const results = to.map((r) => ({
          recipient: r,
          status: 'permanent' as const,
          reply: plan.reply,
          host: host.name,
        }));
        resolve({
          results,
          reusable: true,
          connectionLevel: false,
          clean: true,
          sessionLost: false,
        });
        return;
      }
      const body = plan?.body ?? req.body;
      const envelope: SMTPConnection.Envelope = { from: req.sender, to, size: body.length };
      if (req.ret || req.envId) {
        envelope.dsn = {};
        if (req.ret) envelope.dsn.ret = req.ret === 'FULL' ? 'Full' : 'HDRS';
        if (req.envId) envelope.dsn.envid = req.envId;
      }
      if (plan?.body8bit) envelope.use8BitMime = true;
      setRecipientDsnParams(conn, req.recipients);
      setSmtpUtf8(conn, plan?.smtpUtf8 === true);
      let settled = false;
      const done = (err: Error | null, info?: SMTPConnection.SentMessageInfo) => {
        if (settled) return;
        settled = true;
        conn.removeListener('error', onError);
        conn.removeListener('end', onEnd);
        resolve(transactionOutcome(conn, host, to, err, info));
      };
      // A connection lost mid-transaction is reported only as an event, not through send's callback.
      const onError = (err: Error) => done(err);
      const onEnd = () =>
        done(
          Object.assign(new Error('Connection closed unexpectedly'), {
            code: 'ECONNECTION',
            command: 'CONN',
          }),
        );
      conn.once('error', onError);
      conn.once('end', onEnd);
      conn.send(envelope, body, (err, info) => done(err, info));
    });
  }

  close(): void {
    this.pool.close();
  }
}
