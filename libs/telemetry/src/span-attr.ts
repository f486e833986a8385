/** Every span attribute name mailbus writes, in one place. */
export enum SpanAttr {
  /** Message-ID header value, or the queue id when the message has none. */
  MessageId = 'mailbus.message_id',
  /** The stored message id (the key of the body in Redis). */
  QueueId = 'mailbus.queue_id',
  /** BullMQ job id of one connector's share of a message. */
  JobId = 'mailbus.job_id',
  /** Connector name. */
  Connector = 'mailbus.connector',
  /** Virtual server name. */
  VirtualServer = 'mailbus.virtual_server',
  /** Remote host delivered to (smart host or MX). */
  RemoteHost = 'mailbus.remote_host',
  /** Client address of an inbound session. */
  ClientIp = 'mailbus.client_ip',
  /** Final SMTP reply, `250 2.0.0 OK`. */
  Reply = 'mailbus.reply',
  /** Reply code, 250. */
  ReplyCode = 'mailbus.reply_code',
  /** Number of recipients in the message or attempt. */
  RecipientCount = 'mailbus.recipient_count',
  /** Message size in bytes. */
  Size = 'mailbus.size',
  /** Envelope sender (`<>` for a DSN). */
  Sender = 'mailbus.sender',
  /** The attempt follows a failover from another connector. */
  Failover = 'mailbus.failover',
  /** The connector failed over from. */
  FailoverFrom = 'mailbus.failover_from',
  /** Attempt number of the job (1 = first). */
  Attempt = 'mailbus.attempt',
  /** Outcome: `delivered`, `deferred`, `failover`, `bounced`, `expired`, `rejected`, `accepted`. */
  Outcome = 'mailbus.outcome',
  /** Recipients delivered in an attempt. */
  DeliveredCount = 'mailbus.delivered_count',
  /** Recipients deferred in an attempt. */
  DeferredCount = 'mailbus.deferred_count',
  /** Recipients refused while routing (no route, or every connector dropped). */
  RejectedCount = 'mailbus.rejected_count',
  /** Recipients bounced in an attempt. */
  BouncedCount = 'mailbus.bounced_count',
  /** DSN kind: `failure`, `delay`, `success`. */
  DsnKind = 'mailbus.dsn_kind',
}

/** Span outcomes written as `SpanAttr.Outcome`. */
export type SpanOutcome =
  'accepted' | 'rejected' | 'delivered' | 'deferred' | 'failover' | 'bounced' | 'expired';
