import { parseListen, type Config, type Connector } from '@mailbus/config';
import { homeGroup } from './site-graph.js';
import { SITE_LINK_STALE_MS, type SiteLinkReport } from './site-link-state.js';

/** One end of a link between routing groups: a connector from its bridgeheads' group to a connected group. */
export interface ConnectorEnd {
  connector: string;
  from: { routingGroup: string; bridgeheads: string[] };
  /** The connected group: the virtual servers its smart hosts name, and the smart hosts as written. */
  to: { routingGroup: string; bridgeheads: string[]; smartHosts: string[] };
  cost: number;
}

/** A connector's state as one site knows it. */
export interface SiteConnectorState {
  /** up / down / probing (this site's own, first-hand), or what its site last reported; unknown before any report. */
  state: 'up' | 'down' | 'probing' | 'unknown';
  /** When its site reported it (ms); null for this site's own connectors and before any report. */
  reportedAt: number | null;
  /** The report is older than SITE_LINK_STALE_MS: the last known state, its site not heard from since. */
  stale: boolean;
}

/** The virtual servers of `group` that a connector's smart hosts name (FQDN or listen address). */
function remoteBridgeheads(config: Config, c: Connector, group: string): string[] {
  return config.virtualServers
    .filter((vs) => vs.routingGroup === group)
    .filter((vs) => {
      const listen = parseListen(vs.listen);
      return c.hosts.some(
        (h) =>
          h.host.toLowerCase() === vs.fqdn.toLowerCase() ||
          (listen !== undefined && h.host === listen.host && (h.port ?? c.port) === listen.port),
      );
    })
    .map((vs) => vs.name);
}

/**
 * Both ends of the links a routing-group connector makes (Exchange lists
 * "one object for each end"): its own direction to each connected group,
 * then the connectors of those groups back to its group. Empty for a
 * connector without `connectedRoutingGroups`.
 */
export function connectorEnds(config: Config, connector: Connector): ConnectorEnd[] {
  const home = homeGroup(connector);
  if (home === undefined || connector.connectedRoutingGroups.length === 0) return [];
  const end = (c: Connector, from: string, to: string, cost: number): ConnectorEnd => ({
    connector: c.name,
    from: { routingGroup: from, bridgeheads: [...c.bridgeheads] },
    to: {
      routingGroup: to,
      bridgeheads: remoteBridgeheads(config, c, to),
      smartHosts: [...(c.smartHosts ?? [])],
    },
    cost,
  });
  const ends: ConnectorEnd[] = [];
  for (const g of connector.connectedRoutingGroups) {
    ends.push(end(connector, home, g.name, g.cost));
    for (const back of config.connectors) {
      if (homeGroup(back) !== g.name) continue;
      const link = back.connectedRoutingGroups.find((x) => x.name === home);
      if (link) ends.push(end(back, g.name, home, link.cost));
    }
  }
  return ends;
}

/** A connector of another group as `here` knows it: from the newest report of its group. */
export function reportedState(
  reports: readonly SiteLinkReport[],
  group: string,
  connector: string,
  now: number,
): SiteConnectorState {
  const r = reports.find((x) => x.group === group);
  if (!r) return { state: 'unknown', reportedAt: null, stale: false };
  return {
    state: r.down.includes(connector) ? 'down' : 'up',
    reportedAt: r.at,
    stale: now - r.at > SITE_LINK_STALE_MS,
  };
}
