import type { ConnectorEndStatus, OrganizationConnector, OrganizationStatus } from '@mailbus/queue';

function ago(at: number | null, now: number): string {
  if (at === null) return '';
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

/** `up`, `down STALE (reported 75s ago)`, `unknown (no report yet)`: a state and how fresh it is. */
function stateText(
  s: { state: string; reportedAt: number | null; stale: boolean },
  now: number,
): string {
  if (s.state === 'unknown') return 'unknown (no report yet)';
  if (s.reportedAt === null) return s.state;
  return `${s.state}${s.stale ? ' STALE' : ''} (reported ${ago(s.reportedAt, now)})`;
}

function endText(e: ConnectorEndStatus, now: number): string {
  const side = (g: string, b: string[]) => `${g}${b.length > 0 ? ` [${b.join(', ')}]` : ''}`;
  const to = e.to.bridgeheads.length > 0 ? e.to.bridgeheads : e.to.smartHosts;
  return `    ${side(e.from.routingGroup, e.from.bridgeheads)} -> ${side(e.to.routingGroup, to)} (${e.connector}, cost ${e.cost}): ${stateText(e, now)}`;
}

/**
 * `mailbus connector status` with routing groups as sites: one block per
 * routing group (this site's marked `here`, another's with the age of its
 * last report, STALE past 60 s), each connector with its state and, for one
 * that joins routing groups, both ends.
 */
export function formatOrganization(
  org: OrganizationStatus,
  now: number,
  local: (c: OrganizationConnector) => string,
): string[] {
  const lines: string[] = [];
  for (const g of org.routingGroups) {
    const freshness = g.here
      ? 'here'
      : g.reportedAt === null
        ? 'no report yet'
        : `${g.stale ? 'STALE: ' : ''}last report ${ago(g.reportedAt, now)}`;
    lines.push(`routing group ${g.name} (${freshness})`);
    for (const c of g.connectors) {
      lines.push(`  ${c.status ? local(c) : `${c.name.padEnd(16)} ${stateText(c, now)}`}`);
      for (const e of c.ends) lines.push(endText(e, now));
    }
  }
  return lines;
}
