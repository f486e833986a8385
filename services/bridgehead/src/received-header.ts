import { formatRfc5322Date } from '@mailbus/dsn';
import type { ClientInfo } from '@mailbus/queue';

/**
 * The Received header this gateway adds for its hop (RFC 5321 section 4.4),
 * prepended when the message leaves, so the stored body stays as received.
 */
export function receivedHeader(o: {
  client: ClientInfo;
  byFqdn: string;
  queueId: string;
  receivedAt: number;
  recipient?: string;
}): Buffer {
  const helo = o.client.helo.replace(/[\r\n()]/g, '') || 'unknown';
  const proto = `ESMTP${o.client.secure ? 'S' : ''}${o.client.user ? 'A' : ''}`;
  const ip = o.client.ip.includes(':') ? `IPv6:${o.client.ip}` : o.client.ip;
  return Buffer.from(
    `Received: from ${helo} ([${ip}])\r\n\tby ${o.byFqdn} (mailbus) with ${proto} id ${o.queueId}` +
      `${o.recipient ? `\r\n\tfor <${o.recipient}>` : ''}; ${formatRfc5322Date(o.receivedAt)}\r\n`,
    'latin1',
  );
}
