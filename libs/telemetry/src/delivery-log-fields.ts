/** What happened to the recipients of one attempt, in Postfix's words plus mailbus's failover. */
export type DeliveryStatus = 'sent' | 'deferred' | 'bounced' | 'expired' | 'failover';

export interface DeliveryLogInput {
  queueId: string;
  recipients: readonly string[];
  /** The remote host the attempt reached (or last tried). */
  host?: { name: string; address: string; port: number } | undefined;
  /** The remote reply, or what failed (`connection refused`, …). */
  reply?: string | undefined;
  /** The enhanced status code (`2.0.0`, `4.4.1`, `5.1.1`). */
  dsn?: string | undefined;
  status: DeliveryStatus;
  /** Ingress `250`, attempt start, attempt end: epoch milliseconds. */
  receivedAt: number;
  startedAt: number;
  finishedAt: number;
  /** From the outbound delivery: connection set-up and transaction time. */
  timing?: { connectMs: number; transmitMs: number } | undefined;
}

const seconds = (ms: number): number => Math.round(Math.max(0, ms) / 10) / 100;

/**
 * The fields of one delivery log line, in the order Postfix writes them
 * (`to=… relay=… delay=… delays=a/b/c dsn=… status=… (reply)`): `delay` is arrival to the end of
 * this attempt in seconds; `delays` its parts: queue wait (arrival to the attempt's start),
 * connection set-up, transmission. Pure: every time is a parameter. The connector is not among
 * them: the line is written by the attempt's logger, which carries `message_id` and `connector`
 * (a second `connector` would make the JSON line repeat a key, which log stores such as
 * Elasticsearch refuse).
 */
export function deliveryLogFields(i: DeliveryLogInput): Record<string, unknown> {
  const connect = i.timing?.connectMs ?? 0;
  const transmit = i.timing?.transmitMs ?? 0;
  return {
    queue_id: i.queueId,
    to: i.recipients,
    relay: i.host ? `${i.host.name}[${i.host.address}]:${i.host.port}` : 'none',
    delay: seconds(i.finishedAt - i.receivedAt),
    delays: `${seconds(i.startedAt - i.receivedAt)}/${seconds(connect)}/${seconds(transmit)}`,
    dsn: i.dsn,
    status: i.status,
    reply: i.reply,
  };
}
