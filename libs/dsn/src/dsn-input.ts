import type { SmtpReply } from '@mailbus/smtp';

/** RFC 3464 section 2.3.3 actions. */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

/** RFC 3461 RET: return the full message or its headers only. */
export type DsnRet = 'FULL' | 'HDRS';

export interface DsnRecipient {
  /** The final recipient address (RFC 3464 Final-Recipient, type rfc822). */
  readonly recipient: string;
  /** The ORCPT address, xtext-decoded and without its `rfc822;` type. */
  readonly originalRecipient?: string | undefined;
  readonly action: DsnAction;
  /** RFC 3463 enhanced status, e.g. "5.1.1". */
  readonly status: string;
  /** The remote MTA that gave the diagnostic (host name). */
  readonly remoteMta?: string | undefined;
  /** The remote (or our own) reply that caused the action. */
  readonly diagnostic?: SmtpReply | undefined;
  /**
   * What happened when no server replied (an administrator's action, a lost
   * message): shown instead of a reply in the human-readable part.
   */
  readonly explanation?: string | undefined;
  /** ms since epoch of the last delivery attempt. */
  readonly lastAttempt?: number | undefined;
  /** ms since epoch until which a delayed recipient is retried. */
  readonly willRetryUntil?: number | undefined;
}

export interface DsnInput {
  /** FQDN of this MTA (Reporting-MTA, From address domain). */
  readonly reportingMta: string;
  /** Organisation name shown in the human-readable part. */
  readonly organization: string;
  /** ms since epoch when the original message arrived. */
  readonly arrivalDate: number;
  /** ms since epoch: the DSN's Date. */
  readonly now: number;
  /** Right-hand side of the DSN's Message-ID; defaults to `reportingMta`. */
  readonly messageIdDomain?: string | undefined;
  /** Caller-supplied unique token (Message-ID left-hand side, MIME boundary): no randomness here. */
  readonly randomId: string;
  /** The original envelope sender; the DSN goes to it. */
  readonly originalSender: string;
  /** The ENVID of the original MAIL FROM, xtext-decoded. */
  readonly envelopeId?: string | undefined;
  readonly ret: DsnRet;
  /** The original message as received (RFC 5322, CRLF). */
  readonly originalMessage: Buffer;
  readonly recipients: readonly DsnRecipient[];
  /**
   * The original was received with SMTPUTF8 (RFC 6531): the DSN is an internationalized one
   * (RFC 6533), `message/global-delivery-status` with UTF-8 addresses as they are, returning
   * `message/global` or `message/global-headers`; it must itself be sent with SMTPUTF8.
   */
  readonly international?: boolean | undefined;
  /** Above this many bytes only the headers are returned; default {@link DSN_MAX_RETURNED_BYTES}. */
  readonly maxReturnedBytes?: number | undefined;
}

/** The largest original returned whole in a DSN (RET=FULL); larger ones return their headers. */
export const DSN_MAX_RETURNED_BYTES = 512 * 1024;
