import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { VirtualServer } from '@mailbus/config';
import type { JobRecipient } from '@mailbus/queue';
import type { MessageFacts, Priority } from '@mailbus/routing';
import { replies, SmtpRejection } from '@mailbus/smtp';
import type { SessionState } from './session-state.js';

const ASCII_ADDRESS = /^[\x21-\x7e]*$/;
/** ESMTP parameters this server advertises (RFC 1870, 6152, 6531, 3461, 4954); anything else is 555 5.5.4. */
const MAIL_PARAMETERS = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH']);
const RCPT_PARAMETERS = new Set(['NOTIFY', 'ORCPT']);

function unknownParameter(args: unknown, known: ReadonlySet<string>): string | undefined {
  if (!args || typeof args !== 'object') return undefined;
  return Object.keys(args).find((k) => !known.has(k.toUpperCase()));
}

/**
 * MAIL FROM's parameters: known ones only, SMTPUTF8 for a non-ASCII address,
 * SIZE within the limit; records SIZE, ENVID and RET on the session.
 */
export function checkMailFrom(
  vs: VirtualServer,
  address: SMTPServerAddress,
  session: SMTPServerSession,
  s: SessionState,
): void {
  const args = (address.args || {}) as Record<string, string>;
  const unknown = unknownParameter(address.args, MAIL_PARAMETERS);
  if (unknown !== undefined) throw new SmtpRejection(replies.unknownParameter(unknown));
  if (!ASCII_ADDRESS.test(address.address) && !('SMTPUTF8' in args)) {
    throw new SmtpRejection(replies.addressNeedsSmtputf8());
  }
  const size = args.SIZE !== undefined ? Number(args.SIZE) : undefined;
  if (size !== undefined && Number.isFinite(size)) {
    if (size > vs.maxMessageSizeKB * 1024)
      throw new SmtpRejection(replies.messageTooBig(vs.maxMessageSizeKB));
    s.declaredSize = size;
  } else {
    delete s.declaredSize;
  }
  const dsn = session.envelope.dsn;
  if (dsn?.envid) s.envId = dsn.envid;
  else delete s.envId;
  if (dsn?.ret) s.ret = dsn.ret === 'FULL' ? 'FULL' : 'HDRS';
  else delete s.ret;
}

/** RCPT TO's parameters: known ones only, SMTPUTF8 for a non-ASCII address, the recipient limit. */
export function checkRcptTo(
  vs: VirtualServer,
  address: SMTPServerAddress,
  session: SMTPServerSession,
): void {
  const unknown = unknownParameter(address.args, RCPT_PARAMETERS);
  if (unknown !== undefined) throw new SmtpRejection(replies.unknownParameter(unknown));
  if (
    !ASCII_ADDRESS.test(address.address) &&
    !('SMTPUTF8' in ((session.envelope.mailFrom && session.envelope.mailFrom.args) || {}))
  ) {
    throw new SmtpRejection(replies.addressNeedsSmtputf8());
  }
  if (session.envelope.rcptTo.length >= vs.maxRecipientsPerMessage)
    throw new SmtpRejection(replies.tooManyRecipients());
}

/** An accepted RCPT TO as the job keeps it, with its DSN parameters (RFC 3461). */
export function jobRecipient(address: SMTPServerAddress): JobRecipient {
  const dsn = (address as SMTPServerAddress & { dsn?: { notify?: string[]; orcpt?: string } }).dsn;
  return {
    address: address.address,
    ...(dsn?.orcpt ? { orcpt: dsn.orcpt } : {}),
    ...(dsn?.notify ? { notify: dsn.notify as JobRecipient['notify'] } : {}),
  };
}

/** What routing knows of a message: at RCPT the declared size, after DATA the real one. */
export function envelopeFacts(
  virtualServer: string,
  sender: string,
  sizeBytes: number | undefined,
  priority: Priority,
  visitedGroups: readonly string[] = [],
): MessageFacts {
  return {
    sender,
    priority,
    system: sender === '',
    virtualServer,
    ...(visitedGroups.length > 0 ? { visitedGroups } : {}),
    ...(sizeBytes !== undefined ? { sizeKB: Math.ceil(sizeBytes / 1024) } : {}),
  };
}
