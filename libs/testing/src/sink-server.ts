import type { Socket } from 'node:net';
import type { SMTPServer, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { VerbatimReplyServer } from './verbatim-reply-server.js';
import { freePort, waitFor } from './free-port.js';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** HELO/EHLO name the client sent, and which command. */
  clientHostname: string;
  transmissionType: string;
  secure: boolean;
  user?: string;
  receivedAt: number;
  /** MAIL FROM had SMTPUTF8. */
  smtpUtf8: boolean;
  /** MAIL FROM's BODY: '7bit' (none given) or '8bitmime'. */
  bodyType: string;
}

/** A reply a sink gives: `{code, text}` where text starts with the enhanced code if any. */
export interface SinkReply {
  code: number;
  text: string;
}

export interface SinkOptions {
  port?: number;
  /** Address to listen on (default 127.0.0.1; 127.0.0.2 etc. are loopback too on Linux). */
  host?: string;
  /** Wait this long after the message data arrived before replying (a slow smart host). */
  dataDelayMs?: number;
  /** Reply to RCPT TO for this address, or undefined to accept. */
  onRcpt?: (address: string) => SinkReply | undefined;
  /** Reply after DATA; 'drop' closes the connection before replying. */
  onData?: (msg: ReceivedMessage) => SinkReply | 'drop' | undefined;
  /** Offer STARTTLS with this key and certificate (PEM). Without it STARTTLS is hidden. */
  tls?: { key: string; cert: string };
  /** Require AUTH with this user and password. */
  auth?: { user: string; pass: string };
  /** Extra smtp-server options. */
  server?: Partial<SMTPServerOptions>;
}

function rejection(r: SinkReply): Error & { responseCode: number } {
  return Object.assign(new Error(r.text), { responseCode: r.code });
}

/**
 * A real SMTP server on loopback that records every message it accepts:
 * the downstream smart host or mailbox host of a test.
 */
export class SinkServer {
  readonly messages: ReceivedMessage[] = [];
  connections = 0;
  /** Messages whose data has arrived and whose reply is still to come (dataDelayMs). */
  inFlight = 0;
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    readonly host: string,
  ) {}

  static async start(options: SinkOptions = {}): Promise<SinkServer> {
    const port = options.port ?? (await freePort());
    const ref: { sink?: SinkServer } = {};
    const server = new VerbatimReplyServer({
      logger: false,
      disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
      hideSTARTTLS: !options.tls,
      ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
      authOptional: !options.auth,
      allowInsecureAuth: true,
      hideENHANCEDSTATUSCODES: false,
      size: 100 * 1024 * 1024,
      onConnect(_session, cb) {
        if (ref.sink) ref.sink.connections++;
        cb();
      },
      onAuth(auth, _session, cb) {
        if (
          options.auth &&
          auth.username === options.auth.user &&
          auth.password === options.auth.pass
        ) {
          cb(null, { user: auth.username });
        } else cb(rejection({ code: 535, text: '5.7.8 Authentication credentials invalid' }));
      },
      onRcptTo(address, _session, cb) {
        const r = options.onRcpt?.(address.address);
        if (r) cb(rejection(r));
        else cb();
      },
      onData(stream, session: SMTPServerSession, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (ref.sink) ref.sink.inFlight++;
          setTimeout(finish, options.dataDelayMs ?? 0);
        });
        const finish = () => {
          if (ref.sink) ref.sink.inFlight--;
          const msg: ReceivedMessage = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            clientHostname: session.hostNameAppearsAs,
            transmissionType: session.transmissionType,
            secure: session.secure,
            ...(typeof session.user === 'string' ? { user: session.user } : {}),
            receivedAt: Date.now(),
            smtpUtf8: session.envelope.smtpUtf8 === true,
            bodyType: session.envelope.bodyType ?? '7bit',
          };
          const r = options.onData?.(msg);
          if (r === 'drop') {
            // Close the socket without any reply: the client sees a dropped connection.
            dropConnection(server, session.id);
            return;
          }
          if (r) return cb(rejection(r));
          ref.sink?.messages.push(msg);
          cb(null, `2.0.0 Ok: queued as sink-${ref.sink?.messages.length ?? 0}`);
        };
      },
      ...options.server,
    });
    server.on('error', () => undefined);
    const sink = new SinkServer(server, port, options.host ?? '127.0.0.1');
    ref.sink = sink;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host ?? '127.0.0.1', () => resolve());
    });
    return sink;
  }

  /**
   * Serves a connection that is already open: the client side of a session
   * whose roles were reversed (ATRN, TURN). The sink sends its 220 on it.
   */
  serve(socket: Socket): void {
    this.server.connect(socket);
  }

  /** Waits until at least n messages have arrived. */
  async waitForMessages(n: number, timeoutMs = 15_000): Promise<ReceivedMessage[]> {
    await waitFor(() => this.messages.length >= n, {
      timeoutMs,
      // Read when the wait fails: how many had arrived by then.
      what: () => `${n} messages at sink :${this.port} (have ${this.messages.length})`,
    });
    return this.messages;
  }

  /** Every recipient received so far. */
  recipients(): string[] {
    return this.messages.flatMap((m) => m.to);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface ConnectionLike {
  id: string;
  _socket?: { destroy(): void };
}

function dropConnection(server: SMTPServer, sessionId: string): void {
  const internal = server as unknown as { connections: Set<ConnectionLike> };
  for (const c of internal.connections ?? []) {
    if (c.id === sessionId) c._socket?.destroy();
  }
}
