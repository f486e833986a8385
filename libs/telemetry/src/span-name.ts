/** Span names, so a trace reads the same whichever service wrote it. */
export enum SpanName {
  /** Ingress: one inbound message, MAIL FROM to the final reply (the trace's root;
   * at a later site, the child of the sending site's `smtp.send`). */
  SmtpReceive = 'smtp.receive',
  /** Ingress: routing one message's recipients. */
  Route = 'mailbus.route',
  /** Ingress: storing the body and adding one job per connector. */
  Enqueue = 'queue.enqueue',
  /** Bridgehead: one delivery attempt of one job to one connector. */
  DeliveryAttempt = 'delivery.attempt',
  /** Bridgehead: one SMTP transaction with one remote host, inside an attempt. */
  SmtpSend = 'smtp.send',
  /** Bridgehead: building and queuing a DSN. */
  DsnSend = 'dsn.send',
}
