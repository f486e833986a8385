import type { Config } from '@mailbus/config';
import { replies } from '@mailbus/smtp';
import { dropReasonReply } from './drop-reason-reply.js';
import { evaluateConnectors } from './evaluate-connectors.js';
import { parseRecipient } from './parse-recipient.js';
import { routeAcrossSites } from './route-across-sites.js';
import { hasSites } from './site-graph.js';
import type { Candidate, DownConnectors, MessageFacts, RouteDecision } from './route-types.js';

/**
 * Routes one recipient: the five steps of DESIGN "Routing".
 * 1. an inbound domain goes to its mailbox hosts;
 * 2. drop connectors by scope, delivery and content restrictions;
 * 3. keep the closest address-space match (never falling back to a less specific one);
 * 4. order by cost, ties in config order, down connectors after the live ones;
 * 5. reject with 550 5.4.4 when nothing matches, else with the reason of the
 *    cheapest closest connector that was dropped.
 * When routing groups are sites (a connector lists connectedRoutingGroups),
 * routeAcrossSites adds least-cost paths between them (DESIGN section 7).
 */
export function routeRecipient(
  config: Config,
  facts: MessageFacts,
  recipient: string,
  down: DownConnectors = new Set(),
): RouteDecision {
  if (hasSites(config)) return routeAcrossSites(config, facts, recipient, down);
  const { domain } = parseRecipient(recipient);
  const policy = config.recipientPolicies.find((p) => p.domain === domain);
  if (policy) return { kind: 'local', recipient, domain, mailboxHosts: [...policy.mailboxHosts] };

  const closest = evaluateConnectors(config, facts, domain).filter((e) => e.closest);
  const first = closest[0];
  if (first === undefined) return { kind: 'rejected', recipient, reply: replies.noRoute(domain) };

  const usable = closest.filter((e) => e.drop === undefined);
  if (usable.length === 0) {
    const reason = first.drop ?? { kind: 'scope', routingGroup: undefined, connectorGroups: [] };
    return {
      kind: 'rejected',
      recipient,
      reply: dropReasonReply(reason, first.connector.name, domain),
    };
  }
  const live: Candidate[] = [];
  const dead: Candidate[] = [];
  for (const e of usable) {
    if (down.has(e.connector.name))
      dead.push({ name: e.connector.name, cost: e.match.cost, down: true });
    else live.push({ name: e.connector.name, cost: e.match.cost });
  }
  return { kind: 'connectors', recipient, candidates: [...live, ...dead] };
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
