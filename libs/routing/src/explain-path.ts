import type { Config } from '@mailbus/config';
import type { Candidate } from './route-types.js';
import { homeGroup } from './site-graph.js';

/**
 * A cross-site candidate hop by hop, for `mailbus route` (text): each
 * connector between routing groups with the groups it joins and its cost,
 * then the connector that delivers (its routing group and address-space
 * cost), or the mailbox group reached. `here` is the routing group routing it.
 */
export function explainPath(
  config: Config,
  here: string,
  candidate: Candidate,
  mailboxGroup?: string,
): string[] {
  const path = candidate.path ?? [];
  const byName = new Map(config.connectors.map((c) => [c.name, c]));
  const lines: string[] = [];
  let at = here;
  let linkCost = 0;
  path.forEach((name, i) => {
    const c = byName.get(name);
    const nextName = path[i + 1];
    const next = nextName === undefined ? undefined : byName.get(nextName);
    const to = next ? homeGroup(next) : mailboxGroup;
    const link = c?.connectedRoutingGroups.find((g) => g.name === to);
    if (link) {
      linkCost += link.cost;
      lines.push(`${i + 1}. ${name}: routing group ${at} -> ${link.name}, cost ${link.cost}`);
      at = link.name;
    } else {
      lines.push(
        `${i + 1}. ${name}: delivers from routing group ${at}, address-space cost ${candidate.cost - linkCost}`,
      );
    }
  });
  if (mailboxGroup !== undefined) lines.push(`   mailbox hosts of routing group ${mailboxGroup}`);
  return lines;
}
