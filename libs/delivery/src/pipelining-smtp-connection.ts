import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { encodeXText } from 'nodemailer/lib/shared/index.js';
import { readRepliesAsUtf8 } from './utf8-replies.js';

type Done = (err: Error | null, info?: unknown) => void;

interface Envelope {
  to: string[];
  rcptQueue: string[];
  accepted: string[];
  rejected: string[];
  rejectedErrors: Error[];
}

interface Pipeline {
  /** The MAIL FROM refusal, reported once the pipelined replies are all read. */
  mailError?: Error;
}

/** NOTIFY and ORCPT of one recipient (RFC 3461), as the client gave them. */
export interface RecipientDsnParams {
  notify?: readonly string[];
  /** `addr-type;address`, xtext-decoded (as smtp-server hands it over). */
  orcpt?: string;
}

interface ConnectionInternals {
  options: { lmtp?: boolean };
  _envelope: Envelope;
  _recipientQueue: string[];
  _supportedExtensions: string[];
  _ehloLines?: string[];
  _responseActions: Array<(str: string) => void>;
  _mailbusPipeline?: Pipeline;
  _mailbusMailSent?: boolean;
  _mailbusRcptParams?: ReadonlyMap<string, RecipientDsnParams>;
  _mailbusSmtpUtf8?: boolean;
  _sendCommand(cmd: string): void;
  _setEnvelope(envelope: unknown, callback: Done): void;
  _actionMAIL(str: string, callback: Done): void;
  _actionRCPT(str: string, callback: Done): void;
  _getDsnRcptToArgs(): string;
  _formatError(message: string, type: string, response: string | false, command: string): Error;
}

/**
 * An SMTPConnection that pipelines the envelope (RFC 2920) when the server
 * offers PIPELINING: MAIL FROM, every RCPT TO and DATA leave in one write and
 * their replies are read in order, so a message costs two round trips
 * (envelope, then body) instead of four, as Postfix's smtp client does.
 * nodemailer alone waits for the MAIL FROM reply and again for the RCPT
 * replies before DATA. Replies are handled as nodemailer does: a refused
 * recipient is reported in `rejectedErrors`, DATA is refused by the server
 * when no recipient was accepted (a 354 then gets an empty body, "."), and a
 * refused MAIL FROM fails the transaction once its pipelined replies are read.
 */
export class PipeliningSmtpConnection extends SMTPConnection {}

const base = SMTPConnection.prototype as unknown as ConnectionInternals;
const proto = PipeliningSmtpConnection.prototype as unknown as ConnectionInternals;
readRepliesAsUtf8(proto);

/**
 * The NOTIFY and ORCPT of each recipient of the next transaction on `conn`:
 * nodemailer has one DSN setting per envelope; RCPT sends each recipient its
 * own, when the server offers DSN (RFC 3461 §5.2).
 */
export function setRecipientDsnParams(
  conn: unknown,
  recipients: ReadonlyArray<{ address: string } & RecipientDsnParams>,
): void {
  (conn as ConnectionInternals)._mailbusRcptParams = new Map(recipients.map((r) => [r.address, r]));
}

/**
 * Whether the next MAIL FROM on `conn` carries SMTPUTF8 (RFC 6531): nodemailer adds it only for
 * a non-ASCII address, but a message received with SMTPUTF8 may need it for its header fields.
 */
export function setSmtpUtf8(conn: unknown, on: boolean): void {
  (conn as ConnectionInternals)._mailbusSmtpUtf8 = on;
}

/** `rfc822;a@b` (as smtp-server decoded it) back to RFC 3461 form: addr-type `;` xtext. */
function orcptArg(orcpt: string): string {
  const semi = orcpt.indexOf(';');
  const type = semi < 0 ? 'rfc822' : orcpt.slice(0, semi).trim();
  return `${type};${encodeXText(orcpt.slice(semi + 1).trim())}`;
}

/** The RCPT TO parameters for the recipient just queued (the last of _recipientQueue). */
function rcptDsnArgs(c: ConnectionInternals): string {
  const rcpt = c._recipientQueue.at(-1);
  const p = rcpt === undefined ? undefined : c._mailbusRcptParams?.get(rcpt);
  if (!p || !c._supportedExtensions.includes('DSN')) return base._getDsnRcptToArgs.call(c);
  const args = [
    ...(p.notify?.length ? [`NOTIFY=${p.notify.join(',')}`] : []),
    ...(p.orcpt ? [`ORCPT=${orcptArg(p.orcpt)}`] : []),
  ];
  return args.length ? ` ${args.join(' ')}` : '';
}

proto._getDsnRcptToArgs = function (this: ConnectionInternals) {
  return rcptDsnArgs(this);
};

proto._sendCommand = function (this: ConnectionInternals, cmd: string) {
  if (cmd.startsWith('MAIL FROM:')) {
    this._mailbusMailSent = true;
    if (this._mailbusSmtpUtf8 && !/ SMTPUTF8\b/.test(cmd)) {
      const end = cmd.indexOf('>') + 1;
      cmd = `${cmd.slice(0, end)} SMTPUTF8${cmd.slice(end)}`;
    }
  }
  base._sendCommand.call(this, cmd);
};

proto._setEnvelope = function (this: ConnectionInternals, envelope: unknown, callback: Done) {
  delete this._mailbusPipeline;
  this._mailbusMailSent = false;
  base._setEnvelope.call(this, envelope, callback);
  // MAIL FROM went out (not refused before sending) and the server pipelines: send the rest now.
  const pipelining = !this.options.lmtp && this._supportedExtensions.includes('PIPELINING');
  if (!this._mailbusMailSent || !pipelining) return;
  if (this._envelope.rcptQueue.length === 0) return;
  const p: Pipeline = {};
  this._mailbusPipeline = p;
  this._recipientQueue = [];
  while (this._envelope.rcptQueue.length > 0) {
    const rcpt = this._envelope.rcptQueue.shift() as string;
    this._recipientQueue.push(rcpt);
    this._responseActions.push((str) => onRcpt(this, p, str));
    this._sendCommand(`RCPT TO:<${rcpt}>${this._getDsnRcptToArgs()}`);
  }
  this._responseActions.push((str) => onData(this, p, str, callback));
  this._sendCommand('DATA');
};

proto._actionMAIL = function (this: ConnectionInternals, str: string, callback: Done) {
  const p = this._mailbusPipeline;
  if (!p) return base._actionMAIL.call(this, str, callback);
  if (!str.startsWith('2'))
    p.mailError = this._formatError('Mail command failed', 'EENVELOPE', str, 'MAIL FROM');
};

function onRcpt(c: ConnectionInternals, p: Pipeline, str: string): void {
  const rcpt = c._recipientQueue.shift() as string;
  if (p.mailError) return;
  if (str.startsWith('2')) {
    c._envelope.accepted.push(rcpt);
    return;
  }
  const err = Object.assign(
    c._formatError('Recipient command failed', 'EENVELOPE', str, 'RCPT TO'),
    {
      recipient: rcpt,
    },
  );
  c._envelope.rejected.push(rcpt);
  c._envelope.rejectedErrors.push(err);
}

function onData(c: ConnectionInternals, p: Pipeline, str: string, callback: Done): void {
  const e = c._envelope;
  const allRejected = e.accepted.length === 0;
  if (str.startsWith('354') && (p.mailError || allRejected)) {
    // The server took DATA without a valid envelope: end it with an empty body.
    c._responseActions.push(() => undefined);
    c._sendCommand('.');
  }
  if (p.mailError) return callback(p.mailError);
  if (allRejected) {
    // A 354 (or 250) to DATA says nothing about the refused envelope, and read as the
    // error's reply it would look like a lost session: report the last RCPT reply, as
    // nodemailer does when it sends no DATA. A refusal of DATA (554, 421) is kept.
    const lastRcpt = (e.rejectedErrors.at(-1) as { response?: string } | undefined)?.response;
    const response = /^[23]/.test(str) ? (lastRcpt ?? str) : str;
    const err = Object.assign(
      c._formatError(
        "Can't send mail - all recipients were rejected",
        'EENVELOPE',
        response,
        'RCPT TO',
      ),
      { rejected: e.rejected, rejectedErrors: e.rejectedErrors },
    );
    return callback(err);
  }
  if (!/^[23]/.test(str))
    return callback(c._formatError('Data command failed', 'EENVELOPE', str, 'DATA'));
  callback(null, {
    accepted: e.accepted,
    rejected: e.rejected,
    ...(c._ehloLines?.length ? { ehlo: c._ehloLines } : {}),
    ...(e.rejectedErrors.length ? { rejectedErrors: e.rejectedErrors } : {}),
  });
}
