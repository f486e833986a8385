import type { DeliveryHost, EtrnOutcome, TurnOutcome } from '@mailbus/delivery';
import type { MailQueue } from '@mailbus/queue';
import type { Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';

export interface DequeueReportDeps {
  queue: MailQueue;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Reports each ETRN of a connector (DESIGN 8): counted in
 * `mailbus_etrn_requests_total`, logged, and tracked under `trackId` (the
 * message whose delivery it followed, or the connection time's request id).
 */
export function reportEtrn(
  connector: string,
  trackId: string,
  outcomes: readonly EtrnOutcome[],
  host: DeliveryHost,
  deps: DequeueReportDeps,
): void {
  for (const o of outcomes) {
    deps.metrics?.etrnRequests.inc({ connector, result: o.ok ? 'ok' : 'failed' });
    const fields = {
      connector,
      host: `${host.name}:${host.port}`,
      domain: o.domain,
      reply: o.reply,
      tracking_id: trackId,
    };
    if (o.ok) deps.logger.info(fields, 'ETRN requested');
    else deps.logger.warn(fields, 'ETRN request failed');
    void deps.queue.tracking
      .record(trackId, {
        type: 'etrn',
        connector,
        host: `${host.name}:${host.port}`,
        reply: o.reply,
        detail: `ETRN ${o.domain}: ${o.ok ? 'ok' : 'failed'}`,
      })
      .catch(() => undefined);
  }
}

/** Reports a TURN or ATRN request and, once the roles reversed, the end of the session. */
export function reportTurn(
  connector: string,
  trackId: string,
  o: TurnOutcome,
  host: DeliveryHost,
  deps: DequeueReportDeps,
): void {
  deps.metrics?.turnRequests.inc({ connector, result: o.ok ? 'reversed' : 'failed' });
  const fields = {
    connector,
    host: `${host.name}:${host.port}`,
    command: o.command,
    reply: o.reply,
    tracking_id: trackId,
  };
  if (o.ok) deps.logger.info(fields, 'TURN accepted: roles reversed, receiving');
  else deps.logger.warn(fields, 'TURN request failed');
  void deps.queue.tracking
    .record(trackId, {
      type: 'turn',
      connector,
      host: `${host.name}:${host.port}`,
      reply: o.reply,
      detail: `${o.command}: ${o.ok ? 'roles reversed, receiving' : 'failed'}`,
    })
    .catch(() => undefined);
}
