import type { Config } from '@mailbus/config';
import {
  connectorEnds,
  currentGroup,
  hasSites,
  homeGroup,
  reportedState,
  type ConnectorEnd,
  type SiteConnectorState,
} from '@mailbus/routing';
import type { MailQueue } from './mail-queue.js';
import type { ConnectorSummary } from './connector-status.js';

/** One end of a routing-group link with its state as seen from here. */
export type ConnectorEndStatus = ConnectorEnd & SiteConnectorState;

/** A connector of the organisation as one site sees it. */
export interface OrganizationConnector extends SiteConnectorState {
  name: string;
  routingGroup: string;
  /** Both ends of the links it makes between routing groups; empty for other connectors. */
  ends: ConnectorEndStatus[];
  /** Link state detail, frozen, depth and oldest message: for this site's own connectors only (their queues are here). */
  status: ConnectorSummary | null;
}

/** One routing group's connectors, and how fresh what this site knows of them is. */
export interface RoutingGroupStatus {
  name: string;
  /** The site asked: its connectors' state is first-hand. */
  here: boolean;
  /** When that group last reported its link state here (X-LINK2STATE); null for here or before any report. */
  reportedAt: number | null;
  stale: boolean;
  connectors: OrganizationConnector[];
}

/** `GET /api/connectors` and `mailbus connector status --json` with routing groups as sites. */
export interface OrganizationStatus {
  /** The routing group of the site asked. */
  routingGroup: string;
  routingGroups: RoutingGroupStatus[];
  /** Every connector of the organisation, in config order (the same objects as under routingGroups). */
  connectors: OrganizationConnector[];
}

/**
 * The routing group of the site a command or node works in: that of its
 * virtual server; else the group whose own Redis is `redisUrl`; else the
 * first group on the top-level Redis; else the first group.
 */
export function siteGroup(
  config: Config,
  virtualServer: string | undefined,
  redisUrl: string | undefined,
): string {
  const vs = virtualServer?.toLowerCase();
  if (vs && config.virtualServers.some((v) => v.name.toLowerCase() === vs))
    return currentGroup(config, virtualServer);
  const groups = config.routingGroups;
  return (
    groups.find((g) => redisUrl !== undefined && g.redis?.url === redisUrl)?.name ??
    groups.find((g) => g.redis === undefined)?.name ??
    currentGroup(config, undefined)
  );
}

/**
 * Every connector of the organisation grouped by routing group, with its
 * state as seen from `here`: this site's own from its link state, the others'
 * from the newest report of their site (stale after 60 s), each
 * routing-group connector with both ends. undefined when routing groups are
 * not sites (the plain list applies).
 */
export async function organizationStatus(
  config: Config,
  queue: Pick<MailQueue, 'siteLinks'>,
  ops: { connector(name: string, now: number): Promise<ConnectorSummary> },
  here: string,
  now: number,
): Promise<OrganizationStatus | undefined> {
  if (!hasSites(config)) return undefined;
  const reports = (await queue.siteLinks.all()).filter((r) => r.group !== here);
  const summaries = new Map<string, ConnectorSummary>();
  for (const c of config.connectors)
    if (homeGroup(c) === here) summaries.set(c.name, await ops.connector(c.name, now));
  const stateOf = (name: string, group: string): SiteConnectorState => {
    const s = summaries.get(name);
    if (group !== here || !s) return reportedState(reports, group, name, now);
    return { state: s.link.state, reportedAt: null, stale: false };
  };
  const connectors = config.connectors.map((c): OrganizationConnector => {
    const group = homeGroup(c) ?? c.routingGroups.join(', ');
    return {
      name: c.name,
      routingGroup: group,
      ...stateOf(c.name, group),
      ends: connectorEnds(config, c).map((e) => ({
        ...e,
        ...stateOf(e.connector, e.from.routingGroup),
      })),
      status: summaries.get(c.name) ?? null,
    };
  });
  const routingGroups = config.routingGroups.map((g): RoutingGroupStatus => {
    const r = reports.find((x) => x.group === g.name);
    const report = g.name === here ? undefined : r;
    return {
      name: g.name,
      here: g.name === here,
      reportedAt: report?.at ?? null,
      stale: report ? reportedState([report], g.name, '', now).stale : false,
      connectors: connectors.filter((c) => c.routingGroup === g.name),
    };
  });
  return { routingGroup: here, routingGroups, connectors };
}
