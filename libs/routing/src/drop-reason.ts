import type { Config, Connector } from '@mailbus/config';
import type { DropReason, MessageFacts } from './route-types.js';
import { senderMatches } from './sender-matches.js';

/**
 * The routing group a message entered the organisation through: the first it
 * visited, else that of its virtual server; undefined = not given.
 */
function entryRoutingGroup(config: Config, facts: MessageFacts): string | undefined {
  const first = facts.visitedGroups?.[0];
  if (first !== undefined) return first;
  if (facts.virtualServer === undefined) return undefined;
  const name = facts.virtualServer.toLowerCase();
  const vs = config.virtualServers.find((v) => v.name.toLowerCase() === name);
  // An unknown virtual server belongs to no routing group: it cannot use scoped connectors.
  return vs ? vs.routingGroup : '';
}

/**
 * Step 2 of routing for one connector: why this message may not use it, or
 * undefined when it may. Checked in order: scope, delivery restrictions
 * (sender), content restrictions (size, priority, type).
 */
export function dropReason(
  config: Config,
  connector: Connector,
  facts: MessageFacts,
): DropReason | undefined {
  if (connector.scope === 'routingGroup') {
    const group = entryRoutingGroup(config, facts);
    if (group !== undefined && !connector.routingGroups.includes(group)) {
      return {
        kind: 'scope',
        routingGroup: group === '' ? undefined : group,
        connectorGroups: connector.routingGroups,
      };
    }
  }
  const { accept, reject } = connector.deliveryRestrictions;
  if (reject && reject.some((e) => senderMatches(e, facts.sender))) {
    return { kind: 'sender', sender: facts.sender };
  }
  if (accept && !accept.some((e) => senderMatches(e, facts.sender))) {
    return { kind: 'sender', sender: facts.sender };
  }
  const content = connector.contentRestrictions;
  if (facts.sizeKB !== undefined && facts.sizeKB > content.maxSizeKB) {
    return { kind: 'size', sizeKB: facts.sizeKB, limitKB: content.maxSizeKB };
  }
  if (!content.priorities.includes(facts.priority)) {
    return { kind: 'priority', priority: facts.priority };
  }
  const type = facts.system || facts.sender === '' ? 'system' : 'nonSystem';
  if (!content.types.includes(type)) return { kind: 'type', type };
  return undefined;
}
