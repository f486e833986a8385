import { formatReply, type SmtpReply } from '@mailbus/smtp';
import { asciiEscaped, oneLine } from './mime-encoding.js';

/**
 * Why delivery failed when no server replied, in words for the sender: the socket error
 * names (and the internal address and port they carry) stay in mailbus's own logs.
 */
const NO_REPLY_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/ECONNREFUSED/, 'the connection to the next server was refused'],
  [/ETIMEDOUT|timed? ?out/i, 'the connection to the next server timed out'],
  [/ENOTFOUND|EAI_AGAIN|ENODATA/, "the next server's name could not be resolved"],
  [/ECONNRESET|EPIPE|closed unexpectedly|Lost connection/i, 'the connection was lost'],
  [/EHOSTUNREACH|ENETUNREACH/, 'the next server could not be reached'],
  [/\bTLS\b/, 'the next server did not negotiate the required encryption (TLS)'],
  [/Authentication to/, 'authentication to the next server failed'],
];

/** The reply came from a remote server (it says which command it answered). */
export function serverReplied(r: SmtpReply): boolean {
  return r.inReplyTo !== undefined;
}

/** The words for a reply mailbus made up about a connection that failed; undefined for another. */
export function connectionFailure(r: SmtpReply): string | undefined {
  for (const [pattern, reason] of NO_REPLY_REASONS) if (pattern.test(r.text)) return reason;
  return undefined;
}

/** A reply mailbus made up, for the sender: a connection failure as such, else its own text. */
export function noReplyReason(r: SmtpReply): string {
  return connectionFailure(r) ?? oneLine(formatReply(r));
}

/** " (in reply to RCPT TO command)", as Postfix writes it; "" for a reply mailbus made up. */
export function inReplyToText(r: SmtpReply): string {
  if (r.inReplyTo === undefined) return '';
  return r.inReplyTo === 'greeting'
    ? ' (in its greeting)'
    : ` (in reply to ${oneLine(r.inReplyTo)} command)`;
}

/**
 * The Diagnostic-Code value (RFC 3464 §2.3.6): `smtp; <reply>` when a server replied,
 * else `X-mailbus; <reason>` (as Postfix writes `X-Postfix; …`).
 */
export function diagnosticCode(r: SmtpReply, utf8 = false): string {
  const text = utf8 ? oneLine : asciiEscaped;
  return serverReplied(r)
    ? `smtp; ${text(formatReply(r))}`
    : `X-mailbus; ${text(noReplyReason(r))}`;
}
