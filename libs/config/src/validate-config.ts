import { isIP } from 'node:net';
import type { ConfigError } from './config-error.js';
import type { Config, VirtualServer } from './effective-config.js';
import { ipEntryError } from './ip-list-errors.js';
import { normaliseRoutingGroups, validateRoutingGroups } from './validate-routing-groups.js';
import { ownAddresses } from './own-addresses.js';
import { resolveConnector } from './resolve-connector.js';
import type { ParsedConfig } from './schema.js';
import { parseListen, parseSmartHost } from './smart-host.js';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);

function duplicates(names: readonly string[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  names.forEach((n, i) => seen.set(n.toLowerCase(), [...(seen.get(n.toLowerCase()) ?? []), i]));
  return new Map([...seen].filter(([, idx]) => idx.length > 1));
}

/** `10.0.0.53`, `10.0.0.53:5353`, `[2001:db8::53]:53` or a bare IPv6 address. */
function isDnsServer(s: string): boolean {
  const t = s.trim();
  if (isIP(t)) return true;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(t);
  return m !== null && isIP(m[1] ?? m[2] ?? '') !== 0 && Number(m[3]) >= 1 && Number(m[3]) <= 65535;
}

/**
 * Applies every cross-field rule and resolves inheritance. Returns the effective
 * config (deep-frozen), or every error found (never just the first).
 */
export function validateConfig(parsed: ParsedConfig): {
  config?: Config;
  errors: ConfigError[];
  /** Not fatal: the config runs, but maybe not as meant (an unreachable routing group). */
  warnings: ConfigError[];
} {
  const errors: ConfigError[] = [];
  const err = (path: string, reason: string) => {
    errors.push({ path, reason });
  };

  const dup = (list: readonly string[], path: (i: number) => string, what: string) => {
    for (const [name, idx] of duplicates(list)) {
      for (const i of idx.slice(1)) err(path(i), `duplicate ${what} "${name}"`);
    }
  };
  const routingGroups = normaliseRoutingGroups(parsed);
  const groupNames = routingGroups.map((g) => g.name);
  dup(groupNames, (i) => `routingGroups[${i}]`, 'routing group');
  dup(
    parsed.virtualServers.map((v) => v.name),
    (i) => `virtualServers[${i}].name`,
    'virtual server name',
  );
  dup(
    parsed.connectors.map((c) => c.name),
    (i) => `connectors[${i}].name`,
    'connector name',
  );
  dup(
    parsed.recipientPolicies.map((r) => r.domain),
    (i) => `recipientPolicies[${i}].domain`,
    'inbound domain',
  );

  if (parsed.redis.cluster && parsed.redis.sentinel) {
    err('redis', 'set either cluster or sentinel, not both');
  }
  routingGroups.forEach((g, i) => {
    if (g.redis?.cluster && g.redis.sentinel) {
      err(`routingGroups[${i}].redis`, 'set either cluster or sentinel, not both');
    }
  });

  const defaultGroup = groupNames[0] ?? 'first';
  const own = ownAddresses(parsed.virtualServers, defaultGroup);
  const virtualServers: VirtualServer[] = parsed.virtualServers.map((vs, i) => {
    const at = (p: string) => `virtualServers[${i}].${p}`;
    const routingGroup = vs.routingGroup ?? defaultGroup;
    if (!groupNames.includes(routingGroup)) {
      err(
        at('routingGroup'),
        `"${routingGroup}" is not in routingGroups (${groupNames.join(', ')})`,
      );
    }
    if (!parseListen(vs.listen)) err(at('listen'), `"${vs.listen}" is not host:port`);
    for (const k of ['allow', 'etrn'] as const) {
      vs.relay[k].forEach((entry, j) => {
        const e = ipEntryError(entry);
        if (e) err(at(`relay.${k}[${j}]`), e);
      });
    }
    vs.outbound.dnsServers.forEach((s, j) => {
      if (!isDnsServer(s))
        err(at(`outbound.dnsServers[${j}]`), `"${s}" is not an IP address or IP:port`);
    });
    if (vs.outbound.smartHost !== null) {
      const r = parseSmartHost(vs.outbound.smartHost);
      if (!r.ok) err(at('outbound.smartHost'), r.reason);
      else {
        const loop = own.match(r.value, vs.outbound.port);
        if (loop) {
          err(
            at('outbound.smartHost'),
            `"${vs.outbound.smartHost}" is this server's own address or FQDN (${loop}); delivering to it would loop the mail back`,
          );
        }
      }
    }
    if (vs.protocolLog.period === 'size' && vs.protocolLog.maxSizeMB === undefined) {
      err(
        at('protocolLog.maxSizeMB'),
        'period: size needs maxSizeMB (the size at which files roll over)',
      );
    }
    if (vs.siteTrust === 'authenticated' && !vs.auth && !vs.tls?.clientCa) {
      err(
        at('siteTrust'),
        'siteTrust: authenticated needs a way for the other sites to authenticate: auth.usersFile or tls.clientCa (without one no site would be believed)',
      );
    }
    return { ...vs, routingGroup };
  });

  parsed.recipientPolicies.forEach((rp, i) => {
    if (rp.recipientValidation === 'list' && rp.validRecipientsFile === undefined) {
      err(
        `recipientPolicies[${i}].validRecipientsFile`,
        'recipientValidation: list needs validRecipientsFile (without it every recipient would be refused)',
      );
    }
    if (!DOMAIN.test(rp.domain.replace(/\.$/, ''))) {
      err(
        `recipientPolicies[${i}].domain`,
        `"${rp.domain}" is not a domain name (no wildcards here)`,
      );
    }
    rp.mailboxHosts.forEach((h, j) => {
      const where = `recipientPolicies[${i}].mailboxHosts[${j}]`;
      const r = parseSmartHost(h);
      if (!r.ok) return err(where, r.reason);
      const loop = own.match(r.value, 25);
      if (loop) {
        err(
          where,
          `"${h}" is this server's own address or FQDN (${loop}); inbound mail would loop back to it`,
        );
      }
    });
  });

  const context = {
    virtualServers: new Map(virtualServers.map((v) => [v.name.toLowerCase(), v])),
    inboundDomains: new Set(parsed.recipientPolicies.map((r) => r.domain.replace(/\.$/, ''))),
    own,
  };
  const connectors = parsed.connectors.map((c, i) => resolveConnector(c, i, context, err));
  const warnings = validateRoutingGroups(parsed, routingGroups, connectors, err);

  if (errors.length > 0) return { errors, warnings };
  const { virtualServers: _v, connectors: _c, routingGroups: _g, ...rest } = parsed;
  return {
    config: deepFreeze({ ...rest, routingGroups, virtualServers, connectors }),
    errors,
    warnings,
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
