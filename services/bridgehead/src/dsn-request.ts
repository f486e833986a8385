import type { DeliveryJobData, JobRecipient } from '@mailbus/queue';
import type { SmtpReply } from '@mailbus/smtp';

/**
 * A recipient that will not be delivered (permanent failure or expiry), is
 * delayed, or was relayed to a next hop without DSN: DSN material.
 */
export interface DsnRecipient {
  recipient: JobRecipient;
  action: 'failed' | 'delayed' | 'relayed';
  status: string;
  /** The reply that caused it (Diagnostic-Code). */
  reply?: SmtpReply;
  /** What happened when no server replied (an administrator's delete, a lost body). */
  explanation?: string;
  remoteMta?: string;
  /** For a delay DSN: when mailbus gives up (the policy's expiry). */
  willRetryUntil?: number;
}

export interface DsnRequest {
  job: DeliveryJobData;
  recipients: DsnRecipient[];
  now: number;
  /** Deterministic id so a re-run job does not send the DSN twice. */
  dsnId: string;
  /** The original message, when the caller has it (else it is read from the store). */
  original?: Buffer;
}
