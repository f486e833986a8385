import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** A reply read off the wire: code and the full text of every line. */
export interface WireReply {
  code: number;
  /** All lines joined with \n, without the code prefixes. */
  text: string;
  /** The raw lines as received. */
  lines: string[];
}

/**
 * A raw SMTP client over a socket, for tests where the exact reply bytes matter.
 * Each `send` writes one line and returns the next complete reply.
 */
export class SmtpDialog {
  private buffer = '';
  private readonly replies: WireReply[] = [];
  private waiters: Array<(r: WireReply | undefined) => void> = [];
  closed = false;

  private constructor(public socket: Socket) {
    this.listen(socket);
  }

  private listen(socket: Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    const end = () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static async open(
    port: number,
    host = '127.0.0.1',
    localAddress?: string,
  ): Promise<{ dialog: SmtpDialog; greeting: WireReply }> {
    const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const dialog = new SmtpDialog(socket);
    const greeting = await dialog.read();
    return { dialog, greeting };
  }

  private onData(d: string): void {
    this.buffer += d;
    for (;;) {
      const lines: string[] = [];
      let rest = this.buffer;
      let complete = false;
      for (;;) {
        const nl = rest.indexOf('\r\n');
        if (nl < 0) break;
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 2);
        lines.push(line);
        if (/^\d{3}(?: |$)/.test(line)) {
          complete = true;
          break;
        }
      }
      if (!complete) return;
      this.buffer = rest;
      const first = lines[lines.length - 1] as string;
      const reply: WireReply = {
        code: Number(first.slice(0, 3)),
        text: lines.map((l) => l.slice(4)).join('\n'),
        lines,
      };
      const w = this.waiters.shift();
      if (w) w(reply);
      else this.replies.push(reply);
    }
  }

  /** The next reply; rejects after timeoutMs, resolves undefined when the server closed. */
  read(timeoutMs = 10_000): Promise<WireReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(t);
        if (r) resolve(r);
        else reject(new Error('connection closed'));
      });
    });
  }

  /** Writes raw bytes (no CRLF added). */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /**
   * Resolves once everything written so far has left this socket for the
   * kernel (on loopback: it is in the peer's receive buffer).
   */
  flushed(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write('', (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Sends one command line and reads its reply. */
  async send(line: string, timeoutMs?: number): Promise<WireReply> {
    this.socket.write(`${line}\r\n`);
    return this.read(timeoutMs);
  }

  /** DATA, then the raw message (dot-stuffed by the caller if needed) and the final dot. */
  async data(raw: string | Buffer, terminator = '\r\n.\r\n'): Promise<WireReply> {
    const go = await this.send('DATA');
    if (go.code !== 354) return go;
    this.socket.write(raw);
    this.socket.write(terminator);
    return this.read();
  }

  /**
   * STARTTLS and, on 220, the TLS handshake with `options` (a client
   * certificate, say; the server's is not checked): later commands go over
   * TLS. Returns the reply to STARTTLS.
   */
  async startTls(options: ConnectionOptions = {}): Promise<WireReply> {
    const r = await this.send('STARTTLS');
    if (r.code !== 220) return r;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, ...options });
    await once(secure, 'secureConnect');
    this.socket = secure;
    this.listen(secure);
    return r;
  }

  close(): void {
    this.socket.destroy();
  }

  /** QUIT and close. */
  async quit(): Promise<void> {
    if (!this.closed) {
      try {
        await this.send('QUIT', 2000);
      } catch {
        // already gone
      }
    }
    this.close();
  }
}
