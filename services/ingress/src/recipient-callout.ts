import { connect, type Socket } from 'node:net';
import { parseReply, type SmtpReply } from '@mailbus/smtp';

/** One mailbox host to ask. */
export interface CalloutHost {
  host: string;
  port: number;
}

/** What a callout learned: the mailbox host's RCPT reply, or why it could not be asked. */
export type CalloutResult =
  | { kind: 'valid'; host: string }
  | { kind: 'invalid'; host: string; reply: SmtpReply }
  | { kind: 'temporary'; why: string };

/** Reads whole SMTP replies (multi-line ones joined) off a socket. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private waiter: ((r: SmtpReply | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i).replace(/\r$/, '');
        this.buffer = this.buffer.slice(i + 1);
        this.lines.push(line);
        if (/^\d{3}(?: |$)/.test(line)) this.deliver(parseReply(this.lines.join('\r\n')));
      }
    });
    const fail = (err: Error) => {
      this.failure = err;
      this.waiter?.(err);
      this.waiter = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  private pending: SmtpReply[] = [];

  private deliver(r: SmtpReply | undefined): void {
    this.lines = [];
    const reply = r ?? { code: 0, enhanced: '', text: 'unparsable reply' };
    if (this.waiter) {
      this.waiter(reply);
      this.waiter = undefined;
    } else this.pending.push(reply);
  }

  next(): Promise<SmtpReply> {
    const ready = this.pending.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = (r) => (r instanceof Error ? reject(r) : resolve(r));
    });
  }
}

/** A reply in the protocol log's sense: code and text on one line. */
const line = (r: SmtpReply) => `${r.code} ${r.enhanced ? `${r.enhanced} ` : ''}${r.text}`;

/** Asks one host; throws on a connection failure (the next host is tried). */
async function askHost(
  h: CalloutHost,
  heloName: string,
  recipient: string,
  deadline: number,
): Promise<CalloutResult> {
  const socket = connect({ host: h.host, port: h.port });
  const timer = setTimeout(
    () => socket.destroy(new Error(`no answer within the callout timeout`)),
    Math.max(1, deadline - Date.now()),
  );
  const reader = new ReplyReader(socket);
  const where = `${h.host}:${h.port}`;
  const send = async (cmd: string): Promise<SmtpReply> => {
    socket.write(`${cmd}\r\n`);
    return reader.next();
  };
  try {
    const greeting = await reader.next();
    if (greeting.code !== 220)
      return { kind: 'temporary', why: `${where} greeted ${line(greeting)}` };
    let hello = await send(`EHLO ${heloName}`);
    if (hello.code >= 500) hello = await send(`HELO ${heloName}`);
    if (hello.code !== 250)
      return { kind: 'temporary', why: `${where} answered HELO ${line(hello)}` };
    const mail = await send('MAIL FROM:<>');
    if (mail.code !== 250)
      return { kind: 'temporary', why: `${where} answered MAIL FROM:<> ${line(mail)}` };
    const rcpt = await send(`RCPT TO:<${recipient}>`);
    socket.write('QUIT\r\n');
    if (rcpt.code === 250 || rcpt.code === 251) return { kind: 'valid', host: where };
    if (rcpt.code >= 500 && rcpt.code < 600) return { kind: 'invalid', host: where, reply: rcpt };
    return { kind: 'temporary', why: `${where} answered RCPT TO ${line(rcpt)}` };
  } finally {
    clearTimeout(timer);
    socket.end();
    socket.destroySoon?.();
  }
}

/**
 * A recipient callout (Postfix's address verification): `EHLO`, `MAIL FROM:<>`,
 * `RCPT TO:<recipient>`, `QUIT` to the mailbox hosts in order. The first host
 * that answers RCPT decides: 2xx valid, 5xx invalid; a 4xx, a refused MAIL
 * FROM:<>, a host that cannot be reached, or the deadline is temporary.
 */
export async function callout(o: {
  hosts: CalloutHost[];
  heloName: string;
  recipient: string;
  timeoutMs: number;
}): Promise<CalloutResult> {
  const deadline = Date.now() + o.timeoutMs;
  const errors: string[] = [];
  for (const h of o.hosts) {
    if (Date.now() >= deadline) break;
    try {
      return await askHost(h, o.heloName, o.recipient, deadline);
    } catch (err) {
      errors.push(`${h.host}:${h.port}: ${(err as Error).message}`);
    }
  }
  return {
    kind: 'temporary',
    why: errors.length ? errors.join('; ') : 'no mailbox host answered in time',
  };
}
