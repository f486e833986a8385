import type { Config, Connector } from '@mailbus/config';

/** One direction of a connector with `connectedRoutingGroups`: from its bridgeheads' group to one connected group. */
export interface SiteLink {
  connector: string;
  from: string;
  to: string;
  cost: number;
  /** Config position of the connector: ties are broken by it. */
  index: number;
}

/** True when routing groups are sites: some connector lists connectedRoutingGroups. */
export function hasSites(config: Config): boolean {
  return config.connectors.some((c) => c.connectedRoutingGroups.length > 0);
}

/** The routing group a connector lives in (its bridgeheads'), or undefined when they span groups. */
export function homeGroup(connector: Connector): string | undefined {
  return connector.routingGroups.length === 1 ? connector.routingGroups[0] : undefined;
}

/** Every link between routing groups, in config order. */
export function siteLinks(config: Config): SiteLink[] {
  const links: SiteLink[] = [];
  for (const c of config.connectors) {
    const from = homeGroup(c);
    if (from === undefined) continue;
    for (const g of c.connectedRoutingGroups) {
      links.push({ connector: c.name, from, to: g.name, cost: g.cost, index: c.index });
    }
  }
  return links;
}

/**
 * The routing group a message is being routed in: that of the virtual server
 * it entered through (the node routing it), else the first routing group.
 */
export function currentGroup(config: Config, virtualServer: string | undefined): string {
  const name = virtualServer?.toLowerCase();
  const vs = config.virtualServers.find((v) => v.name.toLowerCase() === name);
  return vs?.routingGroup ?? config.routingGroups[0]?.name ?? '';
}
