/** `cs-username` of a command a bridgehead sent to a remote server (IIS/Exchange literal). */
export const OUTBOUND_COMMAND = 'OutboundConnectionCommand';
/** `cs-username` of a reply a bridgehead received from a remote server (IIS/Exchange literal). */
export const OUTBOUND_RESPONSE = 'OutboundConnectionResponse';

/**
 * One protocol log line: one SMTP command or one reply. Every value is optional; a value
 * that is absent (or a field the log is not configured to write) is `-` in the file.
 * `s-sitename` and `s-computername` come from the writer.
 *
 * Inbound (ingress) lines, as the IIS SMTP service wrote them:
 * - `cIp`: the client's address; `csUsername`: the name it gave in EHLO/HELO;
 * - `csMethod`: the verb (`EHLO`, `MAIL`, `RCPT`, `DATA`, `AUTH`, …);
 * - `csUriQuery`: the command's arguments (AUTH payloads redacted with `redactCommand`);
 * - `scStatus`: the reply code, `timeTaken`: milliseconds the command took.
 *
 * Outbound (bridgehead) lines:
 * - `csUsername`: `OUTBOUND_COMMAND` for a command sent, `OUTBOUND_RESPONSE` for a reply
 *   received;
 * - `cIp`: the remote server's address (not ours); `sPort`: the remote port (IIS wrote 25);
 *   `sIp`: our source address when known;
 * - on a response line `csUriQuery` is the reply text (`250 2.0.0 OK`) and `scStatus` its code.
 */
export interface ProtocolLogEntry {
  /** When the command or reply happened, ms since the epoch; default the writer's clock. */
  time?: number;
  /** `c-ip`: the client's address inbound, the remote server's outbound. */
  cIp?: string;
  /** `cs-username`: EHLO name inbound; `OUTBOUND_COMMAND`/`OUTBOUND_RESPONSE` outbound. */
  csUsername?: string;
  /** `s-ip`: this server's address on the connection (outbound: our source address). */
  sIp?: string;
  /** `s-port`: this server's port on the connection (outbound: the remote port, as IIS did). */
  sPort?: number;
  /** `cs-method`: the SMTP verb. */
  csMethod?: string;
  /** `cs-uri-stem`: unused by SMTP in IIS; free for the caller. */
  csUriStem?: string;
  /** `cs-uri-query`: the command's arguments, or the reply text. */
  csUriQuery?: string;
  /** `sc-status`: the SMTP reply code. */
  scStatus?: number;
  /** `sc-win32-status`: an OS error number, 0 when none. */
  scWin32Status?: number;
  /** `sc-bytes`: bytes sent by the server (inbound) for this line. */
  scBytes?: number;
  /** `cs-bytes`: bytes received from the client (inbound) for this line. */
  csBytes?: number;
  /** `time-taken`: milliseconds. */
  timeTaken?: number;
  /** `cs-version`: the protocol; default `SMTP`. */
  csVersion?: string;
  /** `cs-host`: the host name the peer announced. */
  csHost?: string;
  /** `cs(User-Agent)`. */
  csUserAgent?: string;
  /** `cs(Cookie)`. */
  csCookie?: string;
  /** `cs(Referer)`. */
  csReferer?: string;
}
