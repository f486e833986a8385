import { OUTBOUND_COMMAND, OUTBOUND_RESPONSE } from './protocol-log-entry.js';
import type { ProtocolLogWriter } from './protocol-log-writer.js';
import { redactCommand } from './redact-command.js';

/**
 * One line of an outbound SMTP dialogue, as OutboundDelivery reports it: a
 * bridgehead's deliveries, and ingress's reversed sessions (ATRN/TURN).
 */
export interface OutboundLine {
  direction: 'command' | 'response';
  line: string;
  host: { address: string; port: number };
  at: number;
}

/** Writes an outbound command or response to the virtual server's protocol log. */
export function writeOutboundLine(w: ProtocolLogWriter, l: OutboundLine): void {
  if (l.direction === 'command') {
    const sp = l.line.indexOf(' ');
    const verb = sp < 0 ? l.line : l.line.slice(0, sp);
    // AUTH arguments and base64 continuation lines (AUTH LOGIN user/password) never reach the file.
    const red = redactCommand(verb, sp < 0 ? '' : l.line.slice(sp + 1));
    w.write({
      time: l.at,
      cIp: l.host.address,
      csUsername: OUTBOUND_COMMAND,
      csMethod: red.method.toUpperCase(),
      csUriQuery: red.args,
      sPort: l.host.port,
      csBytes: l.line.length + 2,
    });
  } else {
    const code = Number(l.line.slice(0, 3));
    w.write({
      time: l.at,
      cIp: l.host.address,
      csUsername: OUTBOUND_RESPONSE,
      csUriQuery: l.line.slice(4),
      scStatus: Number.isFinite(code) ? code : 0,
      sPort: l.host.port,
      scBytes: l.line.length + 2,
    });
  }
}
