import type { Connector } from '@mailbus/config';
import type { DeliveryHost, EtrnOutcome, OutboundRequest } from '@mailbus/delivery';
import { reportEtrn, type DequeueReportDeps } from './dequeue-report.js';

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
  deps: DequeueReportDeps,
): Pick<OutboundRequest, 'etrnDomains' | 'onEtrn'> {
  const a = connector?.advanced;
  if (!connector || connector.dns || !a || a.request !== 'etrn' || a.server !== undefined) {
    return {};
  }
  if (a.domains.length === 0) return {};
  return {
    etrnDomains: a.domains,
    onEtrn: (outcomes: EtrnOutcome[], host: DeliveryHost) =>
      reportEtrn(connector.name, messageId, outcomes, host, deps),
  };
}
