import { createServer, type Server, type Socket } from 'node:net';

/** One session as the peer saw it: every line each side sent, in order. */
export interface TurnPeerSession {
  /** Lines mailbus sent (`C:`) and the peer sent (`S:`), CRLF removed. */
  transcript: string[];
  /** The reply mailbus gave to the peer's end of DATA, once the roles reversed. */
  dataReply?: string;
}

/**
 * A scripted ISP for TURN and ATRN (RFC 2645): an SMTP server that accepts
 * AUTH PLAIN for `user`/`pass` and any mail, offers ATRN in EHLO when
 * `atrn`, and answers TURN (or ATRN) with 250; then, on the same
 * connection, it is the client: it waits for mailbus's 220, sends EHLO and
 * delivers `held` (one message to `heldFor`), and QUITs.
 */
export class TurnPeer {
  readonly sessions: TurnPeerSession[] = [];
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(o: {
    atrn: boolean;
    user: string;
    pass: string;
    heldFor: string;
    held: string;
  }): Promise<TurnPeer> {
    const server = createServer((socket) => peer.serve(socket, o));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const peer = new TurnPeer(server, (server.address() as { port: number }).port);
    return peer;
  }

  private serve(
    socket: Socket,
    o: { atrn: boolean; user: string; pass: string; heldFor: string; held: string },
  ): void {
    const session: TurnPeerSession = { transcript: [] };
    this.sessions.push(session);
    let buffer = '';
    let waiters: Array<(line: string) => void> = [];
    const lines: string[] = [];
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      buffer += d;
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        session.transcript.push(`C: ${line}`);
        const w = waiters.shift();
        if (w) w(line);
        else lines.push(line);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const w of waiters) w('');
      waiters = [];
    });
    const next = () =>
      new Promise<string>((resolve) => {
        const l = lines.shift();
        if (l !== undefined) resolve(l);
        else waiters.push(resolve);
      });
    const say = (line: string) => {
      session.transcript.push(`S: ${line}`);
      socket.write(`${line}\r\n`);
    };
    /** The reply mailbus sends as the server: its lines up to the last (`NNN `). */
    const reply = async () => {
      for (;;) {
        const l = await next();
        if (l === '' || /^\d{3} /.test(l)) return l;
      }
    };
    void (async () => {
      say('220 isp.test ESMTP scripted peer');
      let inData = false;
      for (;;) {
        const line = await next();
        if (line === '' && socket.destroyed) return;
        if (inData) {
          if (line === '.') {
            inData = false;
            say('250 2.0.0 Ok: queued');
          }
          continue;
        }
        const verb = line.split(' ')[0]?.toUpperCase() ?? '';
        if (verb === 'EHLO') {
          say('250-isp.test');
          if (o.atrn) say('250-ATRN');
          say('250 AUTH PLAIN');
        } else if (verb === 'AUTH') {
          const b64 = line.split(' ')[2] ?? '';
          const [, u, p] = Buffer.from(b64, 'base64').toString().split('\0');
          say(
            u === o.user && p === o.pass ? '235 2.7.0 Authenticated' : '535 5.7.8 Bad credentials',
          );
        } else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') {
          say('250 2.1.0 Ok');
        } else if (verb === 'DATA') {
          inData = true;
          say('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'TURN' || verb === 'ATRN') {
          if (verb === 'ATRN' && !o.atrn) {
            say('502 5.5.1 Command not implemented');
            continue;
          }
          say('250 OK now reversing the connection');
          // Roles reversed (RFC 2645 section 5): mailbus greets, the peer delivers.
          if (!/^220 /.test(await reply())) return socket.destroy();
          say('EHLO isp.test');
          await reply();
          say('MAIL FROM:<carol@example.org>');
          await reply();
          say(`RCPT TO:<${o.heldFor}>`);
          await reply();
          say('DATA');
          if (!/^354 /.test(await reply())) return socket.destroy();
          for (const l of o.held.split('\r\n')) say(l.startsWith('.') ? `.${l}` : l);
          say('.');
          session.dataReply = await reply();
          say('QUIT');
          await reply();
          return socket.end();
        } else if (verb === 'QUIT') {
          say('221 2.0.0 Bye');
          return socket.end();
        } else {
          say('502 5.5.1 Command not implemented');
        }
      }
    })();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
