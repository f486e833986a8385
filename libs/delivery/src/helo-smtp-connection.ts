import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { readRepliesAsUtf8 } from './utf8-replies.js';

interface ConnectionInternals {
  name: string;
  _greetingTimeout: NodeJS.Timeout | undefined;
  _responseActions: Array<(str: string) => void>;
  _actionHELO: (str: string) => void;
  _sendCommand(cmd: string): void;
  _actionGreeting(str: string): void;
}

/**
 * An SMTPConnection that greets with HELO instead of EHLO (Exchange's "Send
 * HELO instead of EHLO", for peers that break on EHLO). nodemailer only falls
 * back to HELO after a failed EHLO; here the greeting step sends HELO at once.
 * Without EHLO no extension is negotiated: no STARTTLS, PIPELINING, SIZE or DSN.
 */
export class HeloSmtpConnection extends SMTPConnection {}

const base = SMTPConnection.prototype as unknown as ConnectionInternals;
const helo = HeloSmtpConnection.prototype as unknown as ConnectionInternals;
readRepliesAsUtf8(helo);
helo._actionGreeting = function (this: ConnectionInternals, str: string): void {
  if (!str.startsWith('220')) return base._actionGreeting.call(this, str);
  clearTimeout(this._greetingTimeout);
  this._responseActions.push(this._actionHELO);
  this._sendCommand(`HELO ${this.name}`);
};
