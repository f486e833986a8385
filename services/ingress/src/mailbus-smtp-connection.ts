import type { Socket } from 'node:net';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPServer } from 'smtp-server';
import { isRelayProbe, refuseCommand } from './command-guard.js';
import { explicitEnhancedCode } from './enhanced-status-codes.js';
import { answerEtrn, type EtrnHandler } from './etrn.js';
import { atrnReplies, type TurnaroundAnswer, type TurnaroundHandler } from './atrn.js';
import type { LinkStateHandler } from './link-state-command.js';

/** What a mailbus virtual server adds to smtp-server's options, per server. */
export interface MailbusSessionOptions {
  /**
   * Pause before the 220 greeting (smtp-server hard-codes 100 ms: with one
   * session per message that alone capped a 20-session load at about 180
   * messages/s, docs/performance.md). A client that talks first still gets 421.
   */
  greetingDelayMs: number;
  /** List AUTH in EHLO on a connection without TLS (`auth.allowPlaintext`); off by default. */
  allowPlaintextAuth: boolean;
  /** Whether a client IP may use ETRN: EHLO lists ETRN only for those. */
  etrnAllowed: (ip: string) => boolean;
  /** Answers ETRN (RFC 1985); absent ⇒ 502 5.5.1. */
  onEtrn?: EtrnHandler;
  /**
   * ATRN/TURN for trigger accounts (atrn.ts); absent ⇒ 502 5.5.1. `offered`: EHLO lists
   * ATRN (with AUTH available, since fetchmail asks before it authenticates);
   * `mayCollect(user)`: once authenticated, EHLO lists it only for such an account.
   */
  turnaround?: {
    handler: TurnaroundHandler;
    mayCollect: (user: string) => boolean;
  };
  /** Answers X-LINK2STATE (link state between sites, link-state-command.ts); absent ⇒ 502 5.5.1. */
  onLinkState?: LinkStateHandler;
}

/** The server side of a connection, as MailbusSmtpConnection sees it. */
export interface MailbusServerView extends SMTPServer {
  readonly mailbus: MailbusSessionOptions;
}

/**
 * smtp-server's connection with what a gateway needs, for mailbus's own
 * servers only (a subclass, not a prototype patch: other smtp-server users in
 * the process, test peers included, keep the library's behaviour):
 * - enhanced status codes corrected (enhanced-status-codes.ts);
 * - command lines over 512 octets or with NUL refused, and RCPT relay probes
 *   smtp-server cannot parse answered 550 5.7.1 (command-guard.ts);
 * - the greeting delay of the virtual server;
 * - EHLO lists AUTH only once TLS is on (unless plaintext AUTH is allowed) and
 *   ETRN only to a client that may use it; ETRN itself (RFC 1985).
 */
export class MailbusSmtpConnection extends SMTPConnection {
  /** Set while smtp-server's EHLO handler builds its reply, so send() can edit the keyword list. */
  private ehloReply = false;
  /** Roles reversed (ATRN/TURN): the socket is mailbus's client side now; nothing is sent as a server. */
  private reversed = false;

  private get mailbus(): MailbusSessionOptions {
    return (this._server as MailbusServerView).mailbus;
  }

  override init(): void {
    this._setListeners(() => {
      const o = this._server.options;
      if (o.maxClients && this._server.connections.size > o.maxClients) {
        return this.send(
          421,
          `${this.name} Too many connected clients, try again in a moment`,
          false,
        );
      }
      const delay = this.mailbus.greetingDelayMs;
      if (delay <= 0) return this.connectionReady();
      setTimeout(() => this.connectionReady(), delay).unref();
    });
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (this.reversed) return;
    if (this.ehloReply && code === 250 && Array.isArray(data)) {
      this.ehloReply = false;
      return super.send(code, this.ehloKeywords(data), context);
    }
    if (this._server.options.hideENHANCEDSTATUSCODES === false && typeof data === 'string') {
      const text = explicitEnhancedCode(code, data);
      if (text !== undefined) return super.send(code, text, false);
    }
    return super.send(code, data, context);
  }

  /** The EHLO reply lines: AUTH removed before TLS (RFC 4954 §4 and docs), ETRN added where allowed. */
  private ehloKeywords(lines: string[]): string[] {
    const [greeting = '', ...keywords] = lines;
    const out = keywords.filter(
      (k) => !/^AUTH\b/i.test(k) || this.secure || this.mailbus.allowPlaintextAuth,
    );
    if (this.mailbus.onEtrn && this.mailbus.etrnAllowed(this.remoteAddress)) out.push('ETRN');
    const t = this.mailbus.turnaround;
    const user = typeof this.session.user === 'string' ? this.session.user : undefined;
    const authOffered = out.some((k) => /^AUTH\b/i.test(k));
    if (t && (user ? t.mayCollect(user) : authOffered)) out.push('ATRN');
    return [greeting, ...out];
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    if (this._upgrading) return super._onCommand(command, callback);
    const line = Buffer.isBuffer(command) ? command : Buffer.from(command ?? '', 'binary');
    const refused = refuseCommand(line);
    if (!refused) return super._onCommand(command, callback);
    this._server.logger.debug({ tnx: 'command', cid: this.id }, 'C:', refused.logged);
    this.send(refused.code, refused.text);
    const next = callback ?? (() => undefined);
    setImmediate(() => this._whenWritable(next));
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.ehloReply = true;
    super.handler_EHLO(command, callback);
    this.ehloReply = false;
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    const parsed = this._parseAddressCommand('rcpt to', command);
    if ((!parsed || !parsed.address) && isRelayProbe(command.toString())) {
      this.send(550, '5.7.1 Unable to relay');
      return callback();
    }
    super.handler_RCPT(command, callback);
  }

  handler_ETRN(command: Buffer, callback: () => void): void {
    void answerEtrn(command.toString(), this.session, this.mailbus.onEtrn).then((r) => {
      this.send(r.code, r.enhanced ? `${r.enhanced} ${r.text}` : r.text, false);
      callback();
    });
  }

  /** RFC 2645 ATRN: roles reversed for a trigger account's held mail (atrn.ts). */
  handler_ATRN(command: Buffer, callback: () => void): void {
    this.turnaround('ATRN', command, callback);
  }

  /** RFC 821 TURN, accepted only as ATRN is (after AUTH over TLS), for every domain the account may collect. */
  handler_TURN(command: Buffer, callback: () => void): void {
    this.turnaround('TURN', command, callback);
  }

  private turnaround(verb: 'ATRN' | 'TURN', command: Buffer, callback: () => void): void {
    const t = this.mailbus.turnaround;
    const arg = command
      .toString()
      .replace(/^\S+\s*/, '')
      .trim();
    const answer = t
      ? t.handler(verb, arg, this.session).catch(() => ({ reply: atrnReplies.failed() }))
      : Promise.resolve({ reply: atrnReplies.unavailable() });
    void answer.then((a: TurnaroundAnswer) => {
      this.send(a.reply.code, `${a.reply.enhanced} ${a.reply.text}`, false);
      if (!a.collect) return callback();
      void a.collect(this.detach());
    });
  }

  /**
   * Stops serving the socket (the 250 already written): no more parsing, no idle
   * timeout 421, no replies. The session ends when the socket closes.
   */
  private detach(): Socket {
    this.reversed = true;
    const socket = this._socket;
    if (this._parser) {
      socket.unpipe(this._parser);
      this._parser.isClosed = true;
    }
    socket.removeAllListeners('timeout');
    socket.setTimeout(0);
    return socket;
  }

  /** Link state of another routing group, from its bridgehead (docs/routing-groups.md). */
  'handler_X-LINK2STATE'(command: Buffer, callback: () => void): void {
    const arg = command.toString().replace(/^\S+\s*/, '');
    const answer = this.mailbus.onLinkState
      ? this.mailbus.onLinkState(arg, this.session).catch(() => ({
          code: 451,
          enhanced: '4.3.0',
          text: 'Link state not stored, try again later',
        }))
      : Promise.resolve({ code: 502, enhanced: '5.5.1', text: 'Command not implemented' });
    void answer.then((r) => {
      this.send(r.code, `${r.enhanced} ${r.text}`, false);
      callback();
    });
  }
}
