import type { Config } from '@mailbus/config';
import { formatRfc5322Date } from '@mailbus/dsn';
import type { ClientInfo } from '@mailbus/queue';

/**
 * The Received header this gateway adds for its hop (RFC 5321 section 4.4),
 * prepended when the message leaves, so the stored body stays as received.
 * `by` names the virtual server that received the message; the protocol is
 * ESMTP, ESMTPS (TLS), ESMTPA (AUTH) or ESMTPSA (RFC 3848), and a TLS session
 * is recorded as Postfix does: `(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)`.
 */
export function receivedHeader(o: {
  client: ClientInfo;
  byFqdn: string;
  queueId: string;
  receivedAt: number;
  recipient?: string;
}): Buffer {
  const clean = (t: string) => t.replace(/[\r\n()]/g, '');
  const helo = clean(o.client.helo) || 'unknown';
  const proto = `ESMTP${o.client.secure ? 'S' : ''}${o.client.user ? 'A' : ''}`;
  const ip = o.client.ip.includes(':') ? `IPv6:${o.client.ip}` : o.client.ip;
  const tls = o.client.tls
    ? `\r\n\t(using ${clean(o.client.tls.version)} with cipher ${clean(o.client.tls.cipher)})`
    : '';
  return Buffer.from(
    `Received: from ${helo} ([${ip}])${tls}\r\n\tby ${o.byFqdn} (mailbus) with ${proto} id ${o.queueId}` +
      `${o.recipient ? `\r\n\tfor <${o.recipient}>` : ''}; ${formatRfc5322Date(o.receivedAt)}\r\n`,
    'latin1',
  );
}

/** The FQDN of the virtual server a message entered through (`by` of its Received header). */
export function receivingFqdn(config: Config, virtualServer: string): string | undefined {
  return config.virtualServers.find((v) => v.name === virtualServer)?.fqdn;
}
