/** What replaces a secret in the protocol log. */
export const REDACTED = '****';

/** A command as it may be logged: `cs-method` and `cs-uri-query`. */
export interface RedactedCommand {
  method: string;
  args: string;
}

export interface RedactOptions {
  /**
   * The line is a client's answer to a `334` challenge during AUTH (a base64 continuation
   * line, not a command). It is logged as `****`, except `*` (the client cancelling).
   */
  authContinuation?: boolean;
}

/**
 * The loggable form of a command: the wire text and the logged text are separate, and AUTH
 * payloads never reach the log. `AUTH PLAIN <b64>` becomes `AUTH` / `PLAIN ****`; the
 * mechanism stays, every argument after it is replaced. Other commands are unchanged.
 */
export function redactCommand(
  verb: string,
  args: string,
  options: RedactOptions = {},
): RedactedCommand {
  if (options.authContinuation) {
    const line = `${verb} ${args}`.trim();
    return { method: '', args: line === '*' ? '*' : REDACTED };
  }
  if (verb.toUpperCase() !== 'AUTH') return { method: verb, args };
  const parts = args.trim().split(/\s+/);
  const mechanism = parts[0] ?? '';
  if (parts.length <= 1) return { method: verb, args: mechanism };
  return { method: verb, args: `${mechanism} ${REDACTED}` };
}

/** Splits a raw command line (`MAIL FROM:<a@b> SIZE=10`) into verb and arguments. */
export function splitCommandLine(line: string): { verb: string; args: string } {
  const trimmed = line.replace(/\r?\n$/, '');
  const space = trimmed.indexOf(' ');
  if (space < 0) return { verb: trimmed, args: '' };
  return { verb: trimmed.slice(0, space), args: trimmed.slice(space + 1) };
}
