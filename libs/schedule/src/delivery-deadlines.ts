export interface DeliveryDeadlinesInput {
  /** ms since epoch when the message was accepted. */
  readonly arrival: number;
  /** ms after arrival at which undelivered recipients fail with DSN 5.4.7. */
  readonly expireAfter: number;
  /** ms after arrival at which one delay DSN goes out; omitted means none. */
  readonly delayNotifyAfter?: number | undefined;
}

export interface DeliveryDeadlines {
  /** When undelivered recipients expire (failure DSN 5.4.7). */
  readonly expiresAt: number;
  /**
   * When the delay DSN is due; undefined when none is configured or it would not come before
   * expiry (the failure DSN then says it all).
   */
  readonly delayNotifyAt: number | undefined;
}

export function deliveryDeadlines({
  arrival,
  expireAfter,
  delayNotifyAfter,
}: DeliveryDeadlinesInput): DeliveryDeadlines {
  const expiresAt = arrival + expireAfter;
  const delayNotifyAt =
    delayNotifyAfter !== undefined && delayNotifyAfter < expireAfter
      ? arrival + delayNotifyAfter
      : undefined;
  return { expiresAt, delayNotifyAt };
}
