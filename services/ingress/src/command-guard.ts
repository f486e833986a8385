/** RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included. */
export const MAX_COMMAND_LINE = 510;

/**
 * A RCPT argument smtp-server could not parse that still names a second host:
 * `"user@other"@host`, `user@other@host`. Answered as the relay probe it is.
 */
const RELAY_PROBE = /^\s*RCPT\s+TO\s*:\s*<[^<>]*@[^<>]*@[^<>]*>/i;

/** A command line refused before smtp-server sees it: the reply, and the verb to log. */
export interface RefusedCommand {
  code: number;
  text: string;
  /** The verb, letters only, for the protocol log (the line itself is not logged). */
  logged: string;
}

/**
 * What smtp-server accepts but a gateway must not:
 * - a command line over 512 octets ⇒ `500 5.5.6 Line too long`;
 * - a NUL octet in a command ⇒ `500 5.5.2` (never reaches a handler).
 */
export function refuseCommand(line: Buffer): RefusedCommand | undefined {
  const tooLong = line.length > MAX_COMMAND_LINE;
  const nul = line.includes(0);
  if (!tooLong && !nul) return undefined;
  const verb =
    line
      .subarray(0, Math.min(line.length, 16))
      .toString('latin1')
      .split(/[\s\0]/)[0]
      ?.toUpperCase() ?? '';
  return {
    code: 500,
    text: tooLong
      ? '5.5.6 Line too long (a command line is at most 512 octets)'
      : '5.5.2 NUL character in command',
    logged: `${verb.replace(/[^A-Z]/g, '?')} [${line.length} octets refused]`,
  };
}

/** True for a RCPT smtp-server could not parse that names a second host: a relay probe (550 5.7.1). */
export function isRelayProbe(command: string): boolean {
  return RELAY_PROBE.test(command);
}
