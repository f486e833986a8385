import type { SiteLink } from './site-graph.js';

/** A way from one routing group to another over connectors with connectedRoutingGroups. */
export interface SitePath {
  /** The connectors, in order; never empty. */
  links: SiteLink[];
  /** Sum of the links' costs. */
  cost: number;
  /** True when a connector on it is marked down. */
  down: boolean;
}

/** At most this many paths are looked at per search: organisations have a handful of sites. */
const MAX_PATHS = 10_000;

/** Live before down, then cheaper, then fewer hops, then config order of the links. */
export function comparePaths(a: SitePath, b: SitePath): number {
  if (a.down !== b.down) return a.down ? 1 : -1;
  if (a.cost !== b.cost) return a.cost - b.cost;
  if (a.links.length !== b.links.length) return a.links.length - b.links.length;
  for (let i = 0; i < a.links.length; i++) {
    const d = (a.links[i]?.index ?? 0) - (b.links[i]?.index ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The best path from `from` to `to` through each first connector, best first
 * (comparePaths): one entry per first hop, so the list is the failover order
 * out of `from`. A path never enters a routing group twice, nor one in
 * `avoid` (the groups the message has already been in). A path through a
 * down connector is kept, after every live one, so mail can wait for it.
 */
export function leastCostPaths(
  links: readonly SiteLink[],
  from: string,
  to: string,
  down: ReadonlySet<string>,
  avoid: ReadonlySet<string> = new Set(),
): SitePath[] {
  const best = new Map<string, SitePath>();
  let explored = 0;
  const walk = (at: string, path: SiteLink[], seen: Set<string>): void => {
    for (const l of links) {
      if (l.from !== at || seen.has(l.to) || avoid.has(l.to) || explored >= MAX_PATHS) continue;
      const next = [...path, l];
      if (l.to === to) {
        explored++;
        const p: SitePath = {
          links: next,
          cost: next.reduce((s, x) => s + x.cost, 0),
          down: next.some((x) => down.has(x.connector)),
        };
        const first = (next[0] ?? l).connector;
        const old = best.get(first);
        if (old === undefined || comparePaths(p, old) < 0) best.set(first, p);
        continue;
      }
      seen.add(l.to);
      walk(l.to, next, seen);
      seen.delete(l.to);
    }
  };
  if (from !== to) walk(from, [], new Set([from]));
  return [...best.values()].sort(comparePaths);
}
