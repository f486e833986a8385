import type { SMTPServerOptions } from 'smtp-server';
import { type ProtocolLogWriter, redactCommand } from '@mailbus/protocol-log';

type ExternalLogger = NonNullable<Exclude<SMTPServerOptions['logger'], boolean>>;

const SECURED = '/* secured */';
/** The enhanced status code at the start of a reply's text (RFC 3463). */
const ENHANCED = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/;

/** A reply the server sent: its code, enhanced code ('' when none) and last line. */
export interface SentReply {
  code: number;
  enhanced: string;
  text: string;
}

/** The command a reply answered, as logged (AUTH arguments redacted). */
export interface AnsweredCommand {
  method: string;
  args: string;
}

/** A command received and not yet answered (DATA: until the reply after the message). */
interface PendingCommand {
  method: string;
  args: string;
  bytes: number;
  at: number;
  /** DATA/BDAT answered 354 (or a chunk accepted): the line waits for the final reply. */
  inData: boolean;
}

/** What the protocol log needs of an ingress session. */
export interface LoggedSession {
  clientIp: string;
  localIp: string;
  localPort: number;
  helo: string;
  /** The sender of the last MAIL answered 250, for rejection log lines. */
  logSender?: string | undefined;
  /** The command being answered; owned by the protocol log. */
  logPending?: PendingCommand | undefined;
  /** The last message received in this session: its size and Message-ID (without `<>`), for the DATA line. */
  lastMessage?: { bytes: number; messageId?: string | undefined } | undefined;
}

/**
 * smtp-server's debug log (`tnx: 'command'` for each command received, `'send'` for each reply)
 * turned into the protocol log as the IIS SMTP service wrote it: one line per command, carrying
 * its reply's code (`sc-status`), the reply's bytes (`sc-bytes`), the command's bytes
 * (`cs-bytes`) and the time from command to reply (`time-taken`). The DATA line is written when
 * the message has been answered: `cs-bytes` is the message's size and `cs-uri-query` its
 * Message-ID. The greeting is not logged (IIS did not); any other reply sent without a command
 * (a refusal at connect, a 421 on timeout or shutdown) is a line with `cs-method` `-`.
 * Installed whether or not the protocol log is on: `onReply` sees every reply the server sends,
 * its own (a 552 for SIZE=, a 500 for a bad command, a 421 on timeout) as well as mailbus's.
 */
export function inboundProtocolLogger(
  writer: ProtocolLogWriter | undefined,
  sessionOf: (cid: string) => LoggedSession | undefined,
  /** Every reply the server sends, with the command it answers (none for the greeting, a timeout). */
  onReply?: (
    reply: SentReply,
    command: AnsweredCommand | undefined,
    session: LoggedSession | undefined,
  ) => void,
  now: () => number = Date.now,
): ExternalLogger {
  const noop = () => undefined;
  const onCommand = (s: LoggedSession | undefined, text: string, at: number) => {
    const space = text.indexOf(' ');
    const verb = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const args = space < 0 ? '' : text.slice(space + 1);
    if (!s) return;
    if ((verb === 'EHLO' || verb === 'HELO') && args) s.helo = args.trim();
    // smtp-server logs each continuation line of an AUTH exchange as this literal.
    const red = text === SECURED ? { method: 'AUTH', args: '****' } : redactCommand(verb, args);
    s.logPending = {
      method: red.method,
      args: red.args,
      bytes: Buffer.byteLength(text) + 2,
      at,
      inData: false,
    };
  };
  const onSend = (s: LoggedSession | undefined, text: string, at: number) => {
    const lines = text.split(/\r?\n/);
    const last = lines[lines.length - 1] ?? '';
    const code = Number(last.slice(0, 3));
    const status = Number.isFinite(code) ? code : 0;
    const p = s?.logPending;
    if (p && (p.method === 'DATA' || p.method === 'BDAT') && status === 354 && !p.inData) {
      // The go-ahead for the message: its line waits for the reply after the message.
      p.inData = true;
      return;
    }
    if (s) s.logPending = undefined;
    if (s && p?.method === 'MAIL' && status === 250)
      s.logSender = /^FROM:\s*<([^>]*)>/i.exec(p.args)?.[1] ?? '';
    onReply?.({ code: status, enhanced: ENHANCED.exec(last)?.[1] ?? '', text: last }, p, s);
    if (!writer) return;
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0);
    const base = s
      ? { cIp: s.clientIp, sIp: s.localIp, sPort: s.localPort, csUsername: s.helo || undefined }
      : {};
    if (!p) {
      if (status === 220) return;
      writer.write({
        time: at,
        ...base,
        csUriQuery: last.slice(4),
        scStatus: status,
        scBytes: bytes,
      });
      return;
    }
    const message = p.inData || p.method === 'DATA' ? s?.lastMessage : undefined;
    writer.write({
      time: at,
      ...base,
      csMethod: p.method,
      csUriQuery: message?.messageId ? `<${message.messageId}>` : p.method === 'DATA' ? '' : p.args,
      scStatus: status,
      scBytes: bytes,
      csBytes: message ? message.bytes : p.bytes,
      timeTaken: Math.max(0, at - p.at),
    });
    if (message && s) s.lastMessage = undefined;
  };
  const logger = {
    level: noop,
    info: noop,
    warn: noop,
    error: noop,
    trace: noop,
    fatal: noop,
    debug: (meta: { tnx?: string; cid?: string }, ...msg: unknown[]) => {
      // Only the command and reply lines themselves ('C:' / 'S:'): smtp-server also logs
      // handler failures under tnx 'command', with other format arguments.
      const kind = msg[0];
      if (!((meta.tnx === 'command' && kind === 'C:') || (meta.tnx === 'send' && kind === 'S:')))
        return;
      const s = meta.cid ? sessionOf(meta.cid) : undefined;
      const text = msg.slice(1).map(String).join(' ');
      if (kind === 'C:') onCommand(s, text, now());
      else onSend(s, text, now());
    },
  };
  return logger as unknown as ExternalLogger;
}
