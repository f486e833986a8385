/**
 * smtp-server derives an enhanced status code from the reply code alone, and
 * gets several wrong for a gateway (550 → 5.1.1 "bad mailbox" for a relay
 * denial, 552 → 5.2.2 "mailbox full" for a message over the size limit).
 * MailbusSmtpConnection.send asks this function for every reply:
 * - a reply text that starts with an enhanced code (every reply mailbus
 *   builds, see @mailbus/smtp `replies`) is sent as is;
 * - smtp-server's own replies are corrected by the table below;
 * - everything else keeps smtp-server's mapping.
 */
const CORRECTIONS: Array<{ code: number; text: RegExp; enhanced: string }> = [
  // "421 mx Too many connected clients, try again in a moment" (maxClients)
  { code: 421, text: /Too many connected clients/i, enhanced: '4.7.0' },
  // "421 Server shutting down"
  { code: 421, text: /shutting down/i, enhanced: '4.3.2' },
  // "421 Timeout - closing connection"
  { code: 421, text: /Timeout/i, enhanced: '4.4.2' },
  // "421 Error: too many unrecognized commands"
  { code: 421, text: /too many/i, enhanced: '4.7.0' },
  // "552 Error: message exceeds fixed maximum message size 10485760" (MAIL FROM SIZE=)
  { code: 552, text: /./, enhanced: '5.3.4' },
  // "538 Error: Must issue a STARTTLS command first" (RFC 4954: 5.7.11 encryption required)
  { code: 538, text: /./, enhanced: '5.7.11' },
  // "452 Error: too many recipients"
  { code: 452, text: /recipients/i, enhanced: '4.5.3' },
  // "553 ... " non-ASCII address without SMTPUTF8
  { code: 553, text: /SMTPUTF8|non-ascii|internationali/i, enhanced: '5.6.7' },
  // "501 Error: Bad sender address syntax" and the like: syntax error in parameters
  { code: 501, text: /./, enhanced: '5.5.4' },
];

const EXPLICIT = /^[245]\.\d{1,3}\.\d{1,3}(?: |$)/;

/**
 * The reply text to send instead of smtp-server's, with its enhanced code
 * written out (smtp-server then adds none), or undefined to leave the reply
 * to smtp-server's own mapping.
 */
export function explicitEnhancedCode(code: number, text: string): string | undefined {
  if (EXPLICIT.test(text)) return text;
  if (code < 400) return undefined;
  const fix = CORRECTIONS.find((c) => c.code === code && c.text.test(text));
  return fix ? `${fix.enhanced} ${text.replace(/^Error: /, '')}` : undefined;
}
