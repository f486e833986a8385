import type { Config } from '@mailbus/config';
import { replies } from '@mailbus/smtp';
import { dropReasonReply } from './drop-reason-reply.js';
import { evaluateConnectors } from './evaluate-connectors.js';
import { leastCostPaths, type SitePath } from './least-cost-paths.js';
import { parseRecipient } from './parse-recipient.js';
import type { Candidate, DownConnectors, MessageFacts, RouteDecision } from './route-types.js';
import { currentGroup, siteLinks } from './site-graph.js';

/** A candidate with what orders it: hops, and the config order of its last and first connector. */
interface Option extends Candidate {
  hops: number;
  last: number;
  first: number;
}

function toCandidate(o: Option): Candidate {
  return {
    name: o.name,
    cost: o.cost,
    ...(o.path ? { path: o.path } : {}),
    ...(o.down ? { down: true } : {}),
  };
}

/** Live first, then cheaper, fewer hops, config order; one entry per first connector. */
function order(options: Option[]): Candidate[] {
  const sorted = [...options].sort(
    (a, b) =>
      Number(a.down ?? false) - Number(b.down ?? false) ||
      a.cost - b.cost ||
      a.hops - b.hops ||
      a.last - b.last ||
      a.first - b.first,
  );
  const seen = new Set<string>();
  return sorted.filter((o) => !seen.has(o.name) && seen.add(o.name)).map(toCandidate);
}

function viaPath(p: SitePath, extraCost: number, last?: { name: string; index: number }): Option {
  const first = p.links[0];
  return {
    name: first?.connector ?? '',
    cost: p.cost + extraCost,
    path: [...p.links.map((l) => l.connector), ...(last ? [last.name] : [])],
    hops: p.links.length,
    first: first?.index ?? 0,
    last: last?.index ?? p.links[p.links.length - 1]?.index ?? 0,
    ...(p.down ? { down: true } : {}),
  };
}

/**
 * Routes one recipient when routing groups are sites (DESIGN section 7), in
 * the routing group of `facts.virtualServer`:
 * - a mailbox domain of this group (or of no group) is local; of another
 *   group, the least-cost paths to it over connectors with connectedRoutingGroups;
 * - any other domain: the closest address spaces of the whole organisation
 *   (routing-group scope: only connectors of the group the message entered
 *   through), a connector of this group directly at its address-space cost,
 *   one of another group over the least-cost path to it (path cost plus its
 *   address-space cost), one entry per first connector out of this group,
 *   ties by fewer hops, then config order; down paths after the live ones.
 * A path never enters a group in `facts.visitedGroups`: each group routes the
 * message again when it arrives, and no message visits a group twice.
 */
export function routeAcrossSites(
  config: Config,
  facts: MessageFacts,
  recipient: string,
  down: DownConnectors,
): RouteDecision {
  const { domain } = parseRecipient(recipient);
  const links = siteLinks(config);
  const here = currentGroup(config, facts.virtualServer);
  const visited = new Set((facts.visitedGroups ?? []).filter((g) => g !== here));
  const rejected = (reply: ReturnType<typeof replies.noRoute>): RouteDecision => ({
    kind: 'rejected',
    recipient,
    reply,
  });

  const policy = config.recipientPolicies.find((p) => p.domain === domain);
  if (policy) {
    const target = policy.routingGroup;
    if (target === undefined || target === here) {
      return { kind: 'local', recipient, domain, mailboxHosts: [...policy.mailboxHosts] };
    }
    if (visited.has(target)) return rejected(replies.routingLoop(target));
    const paths = leastCostPaths(links, here, target, down, visited);
    if (paths.length === 0) return rejected(replies.noRouteToGroup(target));
    return {
      kind: 'connectors',
      recipient,
      candidates: order(paths.map((p) => viaPath(p, 0))),
    };
  }

  const closest = evaluateConnectors(config, facts, domain).filter((e) => e.closest);
  const firstMatch = closest[0];
  if (firstMatch === undefined) return rejected(replies.noRoute(domain));
  const usable = closest.filter((e) => e.drop === undefined);
  if (usable.length === 0) {
    const reason = firstMatch.drop ?? {
      kind: 'scope',
      routingGroup: undefined,
      connectorGroups: [],
    };
    return rejected(dropReasonReply(reason, firstMatch.connector.name, domain));
  }
  const options: Option[] = [];
  let loopGroup: string | undefined;
  let unreachable: string | undefined;
  for (const e of usable) {
    const c = e.connector;
    if (c.routingGroups.includes(here) || c.routingGroups.length === 0) {
      options.push({
        name: c.name,
        cost: e.match.cost,
        hops: 0,
        first: c.index,
        last: c.index,
        ...(down.has(c.name) ? { down: true } : {}),
      });
      continue;
    }
    for (const g of c.routingGroups) {
      if (visited.has(g)) {
        loopGroup ??= g;
        continue;
      }
      const paths = leastCostPaths(links, here, g, down, visited);
      if (paths.length === 0) unreachable ??= g;
      for (const p of paths) {
        const o = viaPath(p, e.match.cost, { name: c.name, index: c.index });
        options.push(down.has(c.name) ? { ...o, down: true } : o);
      }
    }
  }
  if (options.length === 0) {
    return rejected(
      loopGroup !== undefined
        ? replies.routingLoop(loopGroup)
        : replies.noRouteToGroup(unreachable ?? ''),
    );
  }
  return { kind: 'connectors', recipient, candidates: order(options) };
}
