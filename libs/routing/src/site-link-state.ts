import type { Config } from '@mailbus/config';
import { currentGroup, homeGroup } from './site-graph.js';

/**
 * What one routing group (site) says about its own connectors: which are
 * down, as of `at` (its clock, ms). Sites pass these on over the connectors
 * that join them (X-LINK2STATE), each keeping the newest per group.
 */
export interface SiteLinkReport {
  group: string;
  at: number;
  down: string[];
}

/** A report older than this is stale: its state is still used (the last known), and shown as stale. */
export const SITE_LINK_STALE_MS = 60_000;

/** The reports to keep: per group, the newer of what is stored and what arrived. */
export function newerReports(
  stored: readonly SiteLinkReport[],
  incoming: readonly SiteLinkReport[],
): SiteLinkReport[] {
  const byGroup = new Map(stored.map((r) => [r.group, r]));
  return incoming.filter((r) => (byGroup.get(r.group)?.at ?? -1) < r.at);
}

/**
 * The connectors other sites report down, as seen in routing group `here`:
 * a site speaks only for the connectors of its own group (`groupOf`), never
 * for `here`'s (those are known first-hand). Also which groups' reports are stale.
 */
export function remoteDown(
  reports: readonly SiteLinkReport[],
  here: string,
  groupOf: (connector: string) => string | undefined,
  now: number,
): { down: Set<string>; stale: string[] } {
  const down = new Set<string>();
  const stale: string[] = [];
  for (const r of reports) {
    if (r.group === here) continue;
    if (now - r.at > SITE_LINK_STALE_MS) stale.push(r.group);
    for (const c of r.down) if (groupOf(c) === r.group) down.add(c);
  }
  return { down, stale };
}

/** One report as the argument of `X-LINK2STATE`: `<group> <at> <down,...|->`, names URI-encoded. */
export function formatLinkReport(r: SiteLinkReport): string {
  const down = r.down.map(encodeURIComponent).join(',');
  return `${encodeURIComponent(r.group)} ${r.at} ${down === '' ? '-' : down}`;
}

/** The argument of `X-LINK2STATE` back to a report; undefined when it is not one. */
export function parseLinkReport(arg: string): SiteLinkReport | undefined {
  const m = /^(\S+) (\d{1,15}) (\S+)$/.exec(arg.trim());
  if (!m) return undefined;
  try {
    const group = decodeURIComponent(m[1] ?? '');
    const down = m[3] === '-' ? [] : (m[3] ?? '').split(',').map((c) => decodeURIComponent(c));
    if (group === '' || down.some((c) => c === '')) return undefined;
    return { group, at: Number(m[2]), down };
  } catch {
    return undefined;
  }
}

/**
 * The down connectors routing in `virtualServer`'s group uses: its site's own
 * link state plus what other sites reported about their connectors.
 */
export function downAcrossSites(
  config: Config,
  virtualServer: string | undefined,
  local: ReadonlySet<string>,
  reports: readonly SiteLinkReport[],
  now: number,
): Set<string> {
  if (reports.length === 0) return new Set(local);
  const byName = new Map(config.connectors.map((c) => [c.name, c]));
  const here = currentGroup(config, virtualServer);
  const remote = remoteDown(
    reports,
    here,
    (c) => {
      const connector = byName.get(c);
      return connector ? homeGroup(connector) : undefined;
    },
    now,
  );
  return new Set([...local, ...remote.down]);
}
