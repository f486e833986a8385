import type { Config } from '@mailbus/config';
import type { DownConnectors, MessageFacts, RouteDecision } from './route-types.js';

/**
 * Routes one recipient: the five steps of DESIGN "Routing".
 * Placeholder until the routing engine lands.
 */
export function routeRecipient(
  _config: Config,
  _facts: MessageFacts,
  recipient: string,
  _down: DownConnectors = new Set(),
): RouteDecision {
  throw new Error(`routing not implemented (${recipient})`);
}

/** Routes every recipient of a message, in order. */
export function routeRecipients(
  config: Config,
  facts: MessageFacts,
  recipients: readonly string[],
  down: DownConnectors = new Set(),
): RouteDecision[] {
  return recipients.map((r) => routeRecipient(config, facts, r, down));
}
