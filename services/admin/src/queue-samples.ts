import type { ConnectorSummary } from '@mailbus/queue';
import type { QueueSample } from '@mailbus/telemetry';

/**
 * Connector summaries as Prometheus queue samples. The `state` values are
 * disjoint, so summing them per connector gives the whole queue: `waiting`,
 * `delayed` (by schedule), `retrying`, `held`, `active`, `failed`.
 */
export function queueSamples(connectors: readonly ConnectorSummary[]): QueueSample[] {
  return connectors.map((c) => ({
    connector: c.name,
    depth: {
      waiting: c.depth.waiting,
      delayed: c.depth.delayed,
      retrying: c.depth.retrying,
      held: c.depth.held,
      active: c.depth.active,
      failed: c.depth.failed,
    },
    ...(c.oldestAgeSeconds !== null ? { oldestAgeSeconds: c.oldestAgeSeconds } : {}),
    up: c.link.state !== 'down',
  }));
}
