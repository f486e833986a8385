import type { Connector } from '@mailbus/config';
import type { DeliveryHost, EtrnOutcome, OutboundRequest } from '@mailbus/delivery';
import type { MailQueue } from '@mailbus/queue';
import type { Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';

/**
 * "Request ETRN when sending messages" (seed 002, DESIGN 8): for a smart-host
 * connector with `advanced.request: etrn` and no different server, the
 * outbound request carries the domains, and each outcome is counted
 * (`mailbus_etrn_requests_total`), logged and tracked on the message whose
 * delivery it followed. A failure is only reported: the delivery stands.
 */
export function etrnAfterDelivery(
  connector: Connector | undefined,
  messageId: string,
  deps: { queue: MailQueue; logger: Logger; metrics?: Metrics },
): Pick<OutboundRequest, 'etrnDomains' | 'onEtrn'> {
  const a = connector?.advanced;
  if (!connector || connector.dns || !a || a.request !== 'etrn' || a.server !== undefined) {
    return {};
  }
  if (a.domains.length === 0) return {};
  return {
    etrnDomains: a.domains,
    onEtrn: (outcomes: EtrnOutcome[], host: DeliveryHost) => {
      for (const o of outcomes) {
        deps.metrics?.etrnRequests.inc({
          connector: connector.name,
          result: o.ok ? 'ok' : 'failed',
        });
        const fields = {
          connector: connector.name,
          host: `${host.name}:${host.port}`,
          domain: o.domain,
          reply: o.reply,
        };
        if (o.ok) deps.logger.info(fields, 'ETRN requested');
        else deps.logger.warn(fields, 'ETRN request failed');
        void deps.queue.tracking
          .record(messageId, {
            type: 'etrn',
            connector: connector.name,
            host: `${host.name}:${host.port}`,
            reply: o.reply,
            detail: `ETRN ${o.domain}: ${o.ok ? 'ok' : 'failed'}`,
          })
          .catch(() => undefined);
      }
    },
  };
}
