import type { Config, Connector } from '@mailbus/config';
import { closestAddressSpace, type AddressSpaceMatch } from './closest-address-space.js';
import { dropReason } from './drop-reason.js';
import type { DropReason, MessageFacts } from './route-types.js';

/** One connector whose address space matches the recipient domain, and what steps 2–3 made of it. */
export interface ConnectorEvaluation {
  connector: Connector;
  match: AddressSpaceMatch;
  /** Why step 2 dropped it; undefined = the message may use it. */
  drop: DropReason | undefined;
  /** True when its address space is the closest among the connectors visible to the message. */
  closest: boolean;
}

/**
 * Steps 2 and 3 of routing for one domain, keeping the reasoning: every
 * connector with a matching address space, cheapest first (ties in config
 * order), with its drop reason and whether it is at the closest specificity.
 *
 * The closest specificity is computed before the delivery and content
 * restrictions drop anything, so a less specific address space is never a
 * fallback for a closer one. A connector with routing-group scope is invisible
 * outside its routing group (as in Exchange, where its address space is not
 * known there), so it takes no part in that comparison.
 */
export function evaluateConnectors(
  config: Config,
  facts: MessageFacts,
  domain: string,
): ConnectorEvaluation[] {
  const matching: Array<Omit<ConnectorEvaluation, 'closest'>> = [];
  for (const connector of config.connectors) {
    const match = closestAddressSpace(connector, domain);
    if (match) matching.push({ connector, match, drop: dropReason(config, connector, facts) });
  }
  let closest = -1;
  for (const m of matching) {
    if (m.drop?.kind !== 'scope') closest = Math.max(closest, m.match.specificity);
  }
  return matching
    .map((m) => ({
      ...m,
      closest: m.drop?.kind !== 'scope' && m.match.specificity === closest,
    }))
    .sort((a, b) => a.match.cost - b.match.cost || a.connector.index - b.connector.index);
}
