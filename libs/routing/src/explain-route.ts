import type { Config } from '@mailbus/config';
import { formatReply } from '@mailbus/smtp';
import { evaluateConnectors } from './evaluate-connectors.js';
import { explainPath } from './explain-path.js';
import { currentGroup, hasSites } from './site-graph.js';
import { parseRecipient } from './parse-recipient.js';
import { routeRecipient } from './route-recipient.js';
import type { DownConnectors, DropReason, MessageFacts } from './route-types.js';

function describeDrop(d: DropReason): string {
  switch (d.kind) {
    case 'scope':
      return `scope routingGroup: the message entered in routing group ${d.routingGroup ?? '(unknown virtual server)'}, the connector serves ${d.connectorGroups.join(', ')}`;
    case 'sender':
      return `delivery restrictions do not accept sender <${d.sender}>`;
    case 'size':
      return `message size ${d.sizeKB} KB is over maxSizeKB ${d.limitKB}`;
    case 'priority':
      return `content restrictions do not allow ${d.priority} priority`;
    case 'type':
      return `content restrictions do not allow ${d.type} messages`;
  }
}

/**
 * Human-readable reasoning for one recipient (`mailbus route` without --json):
 * each connector whose address space matches, kept or dropped and why, then
 * the decision.
 */
export function explainRoute(
  config: Config,
  facts: MessageFacts,
  recipient: string,
  down: DownConnectors = new Set(),
): string[] {
  const { domain } = parseRecipient(recipient);
  const lines = [`${recipient} (domain ${domain === '' ? '(none)' : domain}):`];
  const policy = config.recipientPolicies.find((p) => p.domain === domain);
  const sites = hasSites(config);
  const here = currentGroup(config, facts.virtualServer);
  if (sites) {
    lines.push(
      `  routed in routing group ${here}${facts.visitedGroups?.length ? `, after ${facts.visitedGroups.join(', ')}` : ''}`,
    );
  }
  const mailboxGroup = policy?.routingGroup;
  if (policy && sites && mailboxGroup !== undefined && mailboxGroup !== here) {
    lines.push(`  inbound domain (recipientPolicies) of routing group ${mailboxGroup}`);
  } else if (policy) {
    lines.push(
      `  inbound domain (recipientPolicies): local delivery to ${policy.mailboxHosts.join(', ')}`,
    );
    return lines;
  }
  const evaluations = policy ? [] : evaluateConnectors(config, facts, domain);
  if (!policy && evaluations.length === 0)
    lines.push('  no connector has an address space matching this domain');
  for (const e of evaluations) {
    const group = sites ? `, routing group ${e.connector.routingGroups.join('+')}` : '';
    const head = `  ${e.connector.name} [address space ${e.match.space}, cost ${e.match.cost}${group}]`;
    if (e.drop) lines.push(`${head}: dropped, ${describeDrop(e.drop)}`);
    else if (!e.closest) lines.push(`${head}: not used, a closer address space matches`);
    else if (down.has(e.connector.name))
      lines.push(`${head}: kept, marked down (tried after the live ones)`);
    else lines.push(`${head}: kept`);
  }
  const d = routeRecipient(config, facts, recipient, down);
  if (d.kind === 'connectors') {
    lines.push(
      `  => try ${d.candidates.map((c) => (c.down ? `${c.name} (down)` : c.name)).join(', ')}`,
    );
    for (const c of d.candidates.filter((x) => x.path)) {
      lines.push(`  ${c.name}: path cost ${c.cost}${c.down ? ' (a connector on it is down)' : ''}`);
      for (const l of explainPath(config, here, c, policy ? mailboxGroup : undefined))
        lines.push(`    ${l}`);
    }
  } else if (d.kind === 'rejected') {
    lines.push(`  => rejected: ${formatReply(d.reply)}`);
  }
  return lines;
}
