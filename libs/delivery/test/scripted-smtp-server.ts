import { createServer, type Server, type Socket } from 'node:net';

/** One SMTP session as the peer saw it. */
export interface Session {
  /** Every command line received, in order (message bodies not included). */
  commands: string[];
  /** Message bodies accepted in this session, dot-unstuffed, without the final CRLF. */
  messages: string[];
  /** Every read from the socket, as it arrived: shows which commands came in one go. */
  chunks: string[];
  socket: Socket;
  closed: boolean;
}

/** What the peer does instead of its default reply: a reply line, and whether to close after it. */
export type Override = { reply: string; close?: boolean } | undefined;

export interface Script {
  /** EHLO keywords after the greeting line; 8BITMIME alone unless told. */
  extensions?: readonly string[];
  /**
   * Hold the replies to MAIL and RCPT until DATA arrives, then send them all
   * with DATA's (RFC 2920 lets a server batch them). A client that waits for
   * each reply before its next command then hangs until its socket timeout.
   */
  holdEnvelopeReplies?: boolean;
  /** Called for each command line before the default reply. */
  onCommand?: (line: string, session: Session, index: number) => Override;
  /** Called at the end of each message's data, before the default 250 (which records it). */
  onMessage?: (session: Session, index: number) => Override;
  /** Called after a message is accepted (its 250 sent). */
  afterMessage?: (session: Session) => void;
}

/**
 * A raw SMTP server on loopback that records every command line and every
 * read, per connection, and can be told to refuse, answer 421 or close: the
 * sink servers in @mailbus/testing do not show RSET, chunk boundaries or drop
 * a session on cue. Like Postfix it answers RCPT and DATA without an accepted
 * MAIL FROM with 503 5.5.1, and DATA without an accepted recipient with
 * 554 5.5.1; a 354 to DATA (default or scripted) starts the message data.
 */
export class ScriptedSmtpServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** Every session so far, in the order they connected. */
    readonly sessions: Session[],
  ) {}

  static async start(script: Script = {}): Promise<ScriptedSmtpServer> {
    const sessions: Session[] = [];
    const server = createServer((socket) => serve(socket, sessions, script));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    return new ScriptedSmtpServer(
      server,
      typeof addr === 'object' && addr ? addr.port : 0,
      sessions,
    );
  }

  /** Command verbs per session, e.g. [['EHLO', 'MAIL', 'RCPT', 'DATA']]. */
  verbs(): string[][] {
    return this.sessions.map((s) => s.commands.map((c) => c.split(/[ :]/)[0]?.toUpperCase() ?? ''));
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** RFC 5321 4.5.2: a line of message data that starts with "." had one more "." put in front. */
function unstuff(data: string): string {
  return data
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? l.slice(1) : l))
    .join('\r\n');
}

function serve(socket: Socket, sessions: Session[], script: Script): void {
  const session: Session = { commands: [], messages: [], chunks: [], socket, closed: false };
  const index = sessions.length;
  sessions.push(session);
  socket.on('close', () => (session.closed = true));
  socket.on('error', () => undefined);
  socket.setEncoding('latin1');
  const held: string[] = [];
  const send = (o: { reply: string; close?: boolean }, hold = false) => {
    if (socket.destroyed) return;
    if (hold) {
      held.push(`${o.reply}\r\n`);
      return;
    }
    socket.write(`${held.splice(0).join('')}${o.reply}\r\n`);
    if (o.close) socket.end();
  };
  send({ reply: '220 mx.fabrikam.test ESMTP' });
  const ehlo = ['mx.fabrikam.test', ...(script.extensions ?? ['8BITMIME'])];
  let buffer = '';
  let inData = false;
  // The transaction as the replies sent so far left it.
  let mailAccepted = false;
  let recipientsAccepted = 0;
  const resetTransaction = () => {
    mailAccepted = false;
    recipientsAccepted = 0;
  };
  socket.on('data', (d: string) => {
    session.chunks.push(d);
    buffer += d;
    for (;;) {
      if (inData) {
        // With a CRLF in front, the end of data is always "\r\n.\r\n".
        const end = `\r\n${buffer}`.indexOf('\r\n.\r\n');
        if (end < 0) return;
        const body = unstuff(buffer.slice(0, Math.max(0, end - 2)));
        buffer = buffer.slice(end + 3);
        inData = false;
        resetTransaction();
        const o = script.onMessage?.(session, index);
        if (o) {
          send(o);
          continue;
        }
        session.messages.push(body);
        send({ reply: `250 2.0.0 Ok: queued as q${index}-${session.messages.length}` });
        script.afterMessage?.(session);
        continue;
      }
      const nl = buffer.indexOf('\r\n');
      if (nl < 0) return;
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      session.commands.push(line);
      const verb = line.split(/[ :]/)[0]?.toUpperCase() ?? '';
      const o = script.onCommand?.(line, session, index) ?? defaultReply(verb);
      if (verb === 'MAIL' && o.reply.startsWith('2')) mailAccepted = true;
      if (verb === 'RCPT' && o.reply.startsWith('2')) recipientsAccepted++;
      if (verb === 'DATA' && o.reply.startsWith('354')) inData = true;
      if (verb === 'RSET' || verb === 'EHLO' || verb === 'HELO') resetTransaction();
      send(o, script.holdEnvelopeReplies === true && (verb === 'MAIL' || verb === 'RCPT'));
    }
  });

  function defaultReply(verb: string): { reply: string; close?: boolean } {
    switch (verb) {
      case 'EHLO':
        return {
          reply: ehlo.map((l, i) => `250${i < ehlo.length - 1 ? '-' : ' '}${l}`).join('\r\n'),
        };
      case 'HELO':
        return { reply: '250 mx.fabrikam.test' };
      case 'MAIL':
        return mailAccepted
          ? { reply: '503 5.5.1 Error: nested MAIL command' }
          : { reply: '250 2.1.0 Ok' };
      case 'RCPT':
        return mailAccepted
          ? { reply: '250 2.1.5 Ok' }
          : { reply: '503 5.5.1 Error: need MAIL command' };
      case 'DATA':
        if (!mailAccepted) return { reply: '503 5.5.1 Error: need RCPT command' };
        if (recipientsAccepted === 0) return { reply: '554 5.5.1 Error: no valid recipients' };
        return { reply: '354 End data with <CR><LF>.<CR><LF>' };
      case 'RSET':
      case 'NOOP':
        return { reply: '250 2.0.0 Ok' };
      case 'QUIT':
        return { reply: '221 2.0.0 Bye', close: true };
      default:
        return { reply: '502 5.5.2 Command not recognized' };
    }
  }
}
