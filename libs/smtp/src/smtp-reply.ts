/** An SMTP reply as a value: `{ code, enhanced, text }` (RFC 5321 + RFC 3463). */
export interface SmtpReply {
  readonly code: number;
  /** Enhanced status code, e.g. "5.7.1"; empty when the peer sent none. */
  readonly enhanced: string;
  readonly text: string;
  /**
   * The command a remote server's reply answered, as Postfix names it in a bounce
   * ("RCPT TO", "MAIL FROM", "DATA", "end of DATA", "greeting"); absent on a reply
   * mailbus made up (refused connection, timeout, expiry, routing).
   */
  readonly inReplyTo?: string;
}

export function reply(code: number, enhanced: string, text: string): SmtpReply {
  return Object.freeze({ code, enhanced, text });
}

/** `r` as the reply a remote server sent to `command`. */
export function peerReply(r: SmtpReply, command: string): SmtpReply {
  return Object.freeze({ code: r.code, enhanced: r.enhanced, text: r.text, inReplyTo: command });
}

export function isTransient(r: SmtpReply): boolean {
  return r.code >= 400 && r.code < 500;
}

export function isPermanent(r: SmtpReply): boolean {
  return r.code >= 500;
}

export function isPositive(r: SmtpReply): boolean {
  return r.code >= 200 && r.code < 400;
}

/** `550 5.7.1 Unable to relay` */
export function formatReply(r: SmtpReply): string {
  return r.enhanced ? `${r.code} ${r.enhanced} ${r.text}` : `${r.code} ${r.text}`;
}

/** Parses a (possibly multi-line) reply as received from a peer: "550-5.1.1 a\r\n550 5.1.1 b". */
export function parseReply(raw: string): SmtpReply | undefined {
  const lines = raw.split(/\r?\n/).filter((l) => l.length > 0);
  const first = lines[0];
  if (!first) return undefined;
  const m = /^(\d{3})[ -]?(.*)$/.exec(first);
  if (!m) return undefined;
  const code = Number(m[1]);
  const texts = lines.map((l) => l.replace(/^\d{3}[ -]?/, ''));
  const e = /^([245]\.\d{1,3}\.\d{1,3})\s+/.exec(texts[0] ?? '');
  const enhanced = e ? (e[1] as string) : '';
  const text = texts
    .map((t) => (enhanced && t.startsWith(enhanced) ? t.slice(enhanced.length).trimStart() : t))
    .join(' ')
    .trim();
  return reply(code, enhanced, text);
}

/**
 * An error that carries the reply the SMTP client must get. Ingress hooks throw it;
 * one adapter turns it into smtp-server's responseCode. Any other error becomes 451 4.3.0.
 */
export class SmtpRejection extends Error {
  constructor(readonly reply: SmtpReply) {
    super(formatReply(reply));
    this.name = 'SmtpRejection';
  }
}
