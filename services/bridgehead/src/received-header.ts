import type { ClientInfo } from '@mailbus/queue';

/** RFC 5322 date-time, e.g. "Sun, 22 Nov 2026 06:10:48 +0000". */
export function rfc5322Date(t: number): string {
  const d = new Date(t);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

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
      `${o.recipient ? `\r\n\tfor <${o.recipient}>` : ''}; ${rfc5322Date(o.receivedAt)}\r\n`,
    'latin1',
  );
}
