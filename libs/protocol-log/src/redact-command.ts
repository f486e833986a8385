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
 *
 * Safe without session state too: a line that is a single token, not an SMTP verb, and
 * shaped like base64 (what a client sends in answer to a `334` challenge, e.g. AUTH LOGIN's
 * user name and password) is logged as `****` even without `authContinuation`.
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
  if (looksLikeAuthContinuation(verb, args)) return { method: '', args: REDACTED };
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

/** Verbs of SMTP and its extensions; anything else in verb position is no command. */
const SMTP_VERBS = new Set([
  'HELO',
  'EHLO',
  'LHLO',
  'MAIL',
  'RCPT',
  'DATA',
  'BDAT',
  'RSET',
  'NOOP',
  'QUIT',
  'VRFY',
  'EXPN',
  'HELP',
  'TURN',
  'ETRN',
  'ATRN',
  'AUTH',
  'STARTTLS',
  'XCLIENT',
  'XFORWARD',
  'SEND',
  'SOML',
  'SAML',
]);
const BASE64 = /^[A-Za-z0-9+/]{4,}={0,2}$/;

function looksLikeAuthContinuation(verb: string, args: string): boolean {
  return args.trim() === '' && !SMTP_VERBS.has(verb.toUpperCase()) && BASE64.test(verb);
}
