import { parseReply, peerReply, reply, type SmtpReply } from '@mailbus/smtp';

/** What an outbound failure means for the recipients it hit: a closed union. */
export type FailureCategory =
  /** could not talk to this host at all: try the next host, then fail over */
  | 'connection'
  /** the host answered 4xx: try later / fail over */
  | 'transient'
  /** the host answered 5xx: final for the recipient, DSN */
  | 'permanent';

export interface ClassifiedFailure {
  category: FailureCategory;
  reply: SmtpReply;
}

interface ErrorLike {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
}

/**
 * Rules, first match wins. Each keeps the real error that motivated it.
 */
const RULES: Array<{
  test: (e: ErrorLike) => boolean;
  result: (e: ErrorLike, host: string) => ClassifiedFailure;
}> = [
  // "Server terminates connection. response=421 4.3.2 Service shutting down" at greeting/EHLO:
  // the host is not taking mail now; another host may.
  {
    test: (e) => e.responseCode === 421,
    result: (e, host) => ({
      category: 'connection',
      reply: fromResponse(e, reply(421, '4.4.2', `${host} closed the session`)),
    }),
  },
  // "connect ECONNREFUSED 127.0.0.1:2526", "getaddrinfo ENOTFOUND", "Connection timeout":
  // nothing listens or the network is down.
  {
    test: (e) =>
      ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS'].includes(e.code ?? '') && !e.responseCode,
    result: (e, host) => ({
      category: 'connection',
      reply: reply(
        451,
        e.code === 'ETIMEDOUT' ? '4.4.2' : '4.4.1',
        `${e.code === 'ETIMEDOUT' ? 'Timeout talking to' : 'Connection failed to'} ${host}: ${oneLine(e.message)}`,
      ),
    }),
  },
  // "EHLO failed but HELO does not support required STARTTLS" / STARTTLS refused when tls: required.
  {
    test: (e) => e.code === 'ETLS' || /STARTTLS/i.test(e.message ?? ''),
    result: (e, host) => ({
      category: 'connection',
      reply: reply(
        451,
        '4.7.0',
        `TLS required but ${host} did not negotiate it: ${oneLine(e.message)}`,
      ),
    }),
  },
  // "Invalid login: 535 5.7.8 Authentication credentials invalid": our credentials are wrong
  // for this host; another host or connector may take the mail, so not final.
  {
    test: (e) => e.code === 'EAUTH' || e.code === 'ENOAUTH',
    result: (e, host) => ({
      category: 'connection',
      reply: fromResponse(
        e,
        reply(451, '4.7.0', `Authentication to ${host} failed: ${oneLine(e.message)}`),
      ),
    }),
  },
  // "Data command failed: 451 4.3.0 Error: queue file write error" and other 4xx replies.
  {
    test: (e) => (e.responseCode ?? 0) >= 400 && (e.responseCode ?? 0) < 500,
    result: (e, host) => ({
      category: 'transient',
      reply: fromResponse(e, reply(451, '4.0.0', `${host} deferred the message`)),
    }),
  },
  // "Recipient command failed: 550 5.1.1 <x@y>: Recipient address rejected: User unknown".
  {
    test: (e) => (e.responseCode ?? 0) >= 500,
    result: (e, host) => ({
      category: 'permanent',
      reply: fromResponse(e, reply(550, '5.0.0', `${host} rejected the message`)),
    }),
  },
  // "Connection closed unexpectedly" after DATA: we don't know whether it was taken: retry.
  {
    test: () => true,
    result: (e, host) => ({
      category: 'connection',
      reply: reply(451, '4.4.2', `Lost connection with ${host}: ${oneLine(e.message)}`),
    }),
  },
];

function oneLine(s: string | undefined): string {
  return (s ?? 'unknown error').replace(/\s+/g, ' ').trim().slice(0, 300);
}

/**
 * The command a reply answered, as Postfix names it in bounces: nodemailer labels the
 * DATA command and the end of the message both "DATA"; the latter fails as EMESSAGE.
 */
function answeredCommand(e: ErrorLike): string {
  if (e.command === 'CONN') return 'greeting';
  if (e.command === 'DATA' && e.code === 'EMESSAGE') return 'end of DATA';
  return e.command || 'SMTP';
}

/** A peer's reply; without an enhanced code it gets the class code ("5.0.0"). */
function withEnhanced(r: SmtpReply): SmtpReply {
  return r.enhanced ? r : reply(r.code, `${String(r.code)[0]}.0.0`, r.text);
}

function fromResponse(e: ErrorLike, fallback: SmtpReply): SmtpReply {
  if (e.response) {
    const r = parseReply(e.response);
    if (r && r.code >= 200) return peerReply(withEnhanced(r), answeredCommand(e));
  }
  return fallback;
}

/** Classifies a nodemailer/socket error raised while talking to `host`. */
export function classifyError(err: unknown, host: string): ClassifiedFailure {
  const e: ErrorLike =
    typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
  for (const rule of RULES) if (rule.test(e)) return rule.result(e, host);
  /* c8 ignore next */
  return { category: 'connection', reply: reply(451, '4.4.1', oneLine(e.message)) };
}

/**
 * Classifies a reply string the peer sent to `command` (a per-recipient RCPT rejection,
 * the reply at the end of DATA).
 */
export function classifyResponse(
  response: string,
  host: string,
  command: string,
): ClassifiedFailure {
  const r = parseReply(response);
  const rr = r ? peerReply(withEnhanced(r), command) : reply(451, '4.0.0', `${host}: ${response}`);
  return { category: rr.code >= 500 ? 'permanent' : 'transient', reply: rr };
}
