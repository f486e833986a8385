import type { Socket } from 'node:net';
import type { Connector } from '@mailbus/config';
import type { DeliveryHost, OutboundRequest, TurnOutcome } from '@mailbus/delivery';
import { reportTurn, type DequeueReportDeps } from './dequeue-report.js';

/** Serves SMTP on a connection whose roles TURN or ATRN reversed, as the virtual server's ingress. */
export type ReceiveOn = (virtualServer: string, socket: Socket) => Promise<void>;

/**
 * "Issue TURN" when sending (seed 002, DESIGN 8): for a smart-host connector
 * with `advanced.request: turn` and no different server, after the
 * transaction mailbus sends TURN (ATRN for `advanced.domains` where the
 * server offers it); on 250 it receives the server's mail on that connection
 * as `virtualServer`'s ingress. Counted (`mailbus_turn_requests_total`),
 * logged and tracked on the message whose delivery it followed; a refusal
 * never changes that delivery.
 */
export function turnAfterDelivery(
  connector: Connector | undefined,
  messageId: string,
  virtualServer: string,
  deps: DequeueReportDeps & { receiveOn?: ReceiveOn },
): Pick<OutboundRequest, 'turnDomains' | 'onTurn'> {
  const a = connector?.advanced;
  const receiveOn = deps.receiveOn;
  if (!connector || connector.dns || !a || a.request !== 'turn' || a.server !== undefined) {
    return {};
  }
  if (!receiveOn) return {};
  return {
    turnDomains: a.domains,
    onTurn: (o: TurnOutcome, host: DeliveryHost) => {
      reportTurn(connector.name, messageId, o, host, deps);
      if (!o.socket) return;
      void receiveOn(virtualServer, o.socket as Socket).then(
        () => deps.logger.info({ connector: connector.name }, 'TURN session ended'),
        (err: unknown) =>
          deps.logger.warn({ err, connector: connector.name }, 'TURN session failed'),
      );
    },
  };
}
