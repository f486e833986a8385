import type { Priority } from '@mailbus/routing';
import type { MessageFacts } from '@mailbus/schedule';

/** One recipient of a delivery job, with its RFC 3461 DSN parameters. */
export interface JobRecipient {
  address: string;
  /** ORCPT, as given at RCPT. */
  orcpt?: string;
  /** NOTIFY values; absent = the default (FAILURE, DELAY). */
  notify?: Array<'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY'>;
}

/** The SMTP client that handed the message to ingress. */
export interface ClientInfo {
  ip: string;
  helo: string;
  secure: boolean;
  user?: string;
  /** The TLS session the message came over (Received header, as Postfix records it). */
  tls?: { version: string; cipher: string };
}

/** One past attempt, kept in the job so failover and DSNs know the history. */
export interface AttemptRecord {
  connector: string;
  at: number;
  host?: string;
  /** The reply or error text that ended the attempt. */
  result: string;
}

/**
 * The data of a BullMQ delivery job: the envelope and the recipients that one
 * connector delivers; the body is stored once under Keys.message(messageId).
 */
export interface DeliveryJobData {
  v: 1;
  /** mailbus queue id of the message. */
  messageId: string;
  /** The Message-ID header, if any. */
  headerMessageId?: string;
  sender: string;
  recipients: JobRecipient[];
  size: number;
  receivedAt: number;
  /** ENVID and RET from MAIL FROM. */
  envId?: string;
  ret?: 'FULL' | 'HDRS';
  /** MAIL FROM had BODY=8BITMIME, or the body has 8-bit octets. */
  body8bit?: boolean;
  /** MAIL FROM had SMTPUTF8 (RFC 6531). */
  smtpUtf8?: boolean;
  priority: Priority;
  system: boolean;
  /** The virtual server the message entered through. */
  virtualServer: string;
  /** Connector names these recipients may use, in try order. */
  plan: string[];
  /** Index into plan of the connector this job is queued on. */
  planIndex: number;
  /** How many full passes through the plan have failed (retry interval index). */
  round: number;
  /** Linear job chain: this job's successor gets hop + 1. */
  branch: number;
  hop: number;
  attempts: AttemptRecord[];
  /** When set, mailbox hosts of an inbound domain (local delivery, no connector). */
  mailboxHosts?: string[];
  /** A delay DSN was already sent for these recipients. */
  delayNotified?: boolean;
  client: ClientInfo;
  /** W3C trace context of the ingress span. */
  trace: Record<string, string>;
}

/** The name of the internal queue that delivers to inbound domains' mailbox hosts. */
export const LOCAL_DELIVERY = '@local';

/** What the delivery policy needs to know of a job. */
export function messageFacts(data: DeliveryJobData): MessageFacts {
  return {
    receivedAt: data.receivedAt,
    size: data.size,
    plan: data.plan,
    planIndex: data.planIndex,
    round: data.round,
    delayNotified: data.delayNotified ?? false,
  };
}
