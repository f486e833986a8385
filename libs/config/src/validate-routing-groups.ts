import type { ConfigError } from './config-error.js';
import type { Connector, RoutingGroup } from './effective-config.js';
import type { ParsedConfig } from './schema.js';

type Report = (path: string, reason: string) => void;

/** `routingGroups: [first]` and `[{ name: first, redis: … }]` as one shape. */
export function normaliseRoutingGroups(parsed: ParsedConfig): RoutingGroup[] {
  return parsed.routingGroups.map((g) =>
    typeof g === 'string' ? { name: g } : { name: g.name, ...(g.redis ? { redis: g.redis } : {}) },
  );
}

/**
 * The routing-group rules of DESIGN section 7, on resolved connectors: every
 * connected group exists and is not the connector's own, a connector that
 * connects groups has its bridgeheads in one group, every recipient policy's
 * group exists, and (a warning, not an error) every group can reach every
 * other over routing-group connectors.
 */
export function validateRoutingGroups(
  parsed: ParsedConfig,
  groups: readonly RoutingGroup[],
  connectors: readonly Connector[],
  err: Report,
): ConfigError[] {
  const names = groups.map((g) => g.name);
  const known = new Set(names);
  const list = names.join(', ');
  parsed.recipientPolicies.forEach((rp, i) => {
    if (rp.routingGroup !== undefined && !known.has(rp.routingGroup)) {
      err(
        `recipientPolicies[${i}].routingGroup`,
        `"${rp.routingGroup}" is not in routingGroups (${list})`,
      );
    }
  });
  connectors.forEach((c) => {
    const at = (p: string) => `connectors[${c.index}].${p}`;
    if (c.connectedRoutingGroups.length === 0) {
      if (c.addressSpaces.length === 0) {
        err(
          at('addressSpaces'),
          'a connector needs addressSpaces unless it lists connectedRoutingGroups (it would carry no mail)',
        );
      }
      return;
    }
    if (c.routingGroups.length > 1) {
      err(
        at('bridgeheads'),
        `a connector that connects routing groups needs its bridgeheads in one routing group, but they are in ${c.routingGroups.join(' and ')}`,
      );
    }
    const own = c.routingGroups[0];
    c.connectedRoutingGroups.forEach((g, j) => {
      if (!known.has(g.name)) {
        err(
          at(`connectedRoutingGroups[${j}].name`),
          `"${g.name}" is not in routingGroups (${list})`,
        );
      } else if (g.name === own) {
        err(
          at(`connectedRoutingGroups[${j}].name`),
          `"${g.name}" is the connector's own routing group (its bridgeheads are there): a connector cannot connect a group to itself`,
        );
      }
      if (g.cost < 1 || g.cost > 100) {
        err(at(`connectedRoutingGroups[${j}].cost`), `cost ${g.cost} is outside 1-100`);
      }
    });
  });
  return unreachableWarnings(names, connectors);
}

/** One warning per group that cannot reach some other group over routing-group connectors. */
function unreachableWarnings(
  names: readonly string[],
  connectors: readonly Connector[],
): ConfigError[] {
  if (!connectors.some((c) => c.connectedRoutingGroups.length > 0)) return [];
  const edges = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
  for (const c of connectors) {
    const from = c.routingGroups.length === 1 ? c.routingGroups[0] : undefined;
    if (from === undefined) continue;
    for (const g of c.connectedRoutingGroups) edges.get(from)?.add(g.name);
  }
  const warnings: ConfigError[] = [];
  names.forEach((from, i) => {
    const seen = new Set([from]);
    const todo = [from];
    for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
      for (const next of edges.get(n) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          todo.push(next);
        }
      }
    }
    const missing = names.filter((n) => !seen.has(n));
    if (missing.length > 0) {
      warnings.push({
        path: `routingGroups[${i}]`,
        reason: `routing group ${from} cannot reach ${missing.join(', ')} over connectors with connectedRoutingGroups: mail from ${from} for mailboxes or connectors there is rejected`,
      });
    }
  });
  return warnings;
}
