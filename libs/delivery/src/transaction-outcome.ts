import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { classifyError, classifyResponse } from './classify-error.js';
import type { RecipientResult, RecipientStatus } from './outbound-types.js';
import type { DeliveryHost } from './resolve-mx.js';

const STAGES_BEFORE_ENVELOPE = new Set([
  'CONN',
  'EHLO',
  'HELO',
  'LHLO',
  'STARTTLS',
  'AUTH PLAIN',
  'AUTH LOGIN',
  'AUTH CRAM-MD5',
  'AUTH XOAUTH2',
  'AUTH NTLM',
]);

export interface TransactionOutcome {
  results: RecipientResult[];
  /** The session can carry another transaction. */
  reusable: boolean;
  /** Failed before the envelope (greeting, EHLO, STARTTLS, AUTH): try the next host. */
  connectionLevel: boolean;
  /** Ended with the server's 250 after DATA: the next MAIL FROM needs no RSET. */
  clean: boolean;
  /** The connection broke or the server answered 421 (closing the session). */
  sessionLost: boolean;
}

/** What one transaction's end (nodemailer's error or info) means per recipient and for the session. */
export function transactionOutcome(
  conn: SMTPConnection,
  host: DeliveryHost,
  to: string[],
  err: Error | null,
  info: SMTPConnection.SentMessageInfo | undefined,
): TransactionOutcome {
  const perRecipient = new Map<string, RecipientResult>();
  const rejectedErrors =
    (err as { rejectedErrors?: Array<{ recipient?: string; response?: string }> } | null)
      ?.rejectedErrors ??
    info?.rejectedErrors ??
    [];
  for (const re of rejectedErrors as Array<{ recipient?: string; response?: string }>) {
    if (!re.recipient) continue;
    const c = classifyResponse(re.response ?? '', host.name, 'RCPT TO');
    perRecipient.set(re.recipient, {
      recipient: re.recipient,
      status: c.category === 'permanent' ? 'permanent' : 'transient',
      reply: c.reply,
      host: host.name,
    });
  }
  if (err || !info) {
    const stage = (err as { command?: string } | null)?.command ?? 'CONN';
    const c = classifyError(err, host.name);
    const connectionLevel = STAGES_BEFORE_ENVELOPE.has(stage) && c.category === 'connection';
    const status: RecipientStatus = c.category === 'permanent' ? 'permanent' : 'transient';
    const results = to.map(
      (r) => perRecipient.get(r) ?? { recipient: r, status, reply: c.reply, host: host.name },
    );
    // After an error reply inside a transaction the session is still usable (RSET on reuse).
    const reusable =
      c.category !== 'connection' && !(conn as unknown as { _destroyed?: boolean })._destroyed;
    const sessionLost = c.category === 'connection' || c.reply.code === 421;
    return { results, reusable, connectionLevel, clean: false, sessionLost };
  }
  const ok = classifyResponse(info.response, host.name, 'end of DATA').reply;
  const nextHopDsn = (
    conn as unknown as { _supportedExtensions?: string[] }
  )._supportedExtensions?.includes('DSN');
  const results = to.map(
    (r) =>
      perRecipient.get(r) ?? {
        recipient: r,
        status: 'delivered' as const,
        reply: ok,
        host: host.name,
        nextHopDsn: nextHopDsn === true,
      },
  );
  return { results, reusable: true, connectionLevel: false, clean: true, sessionLost: false };
}
