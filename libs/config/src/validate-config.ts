import { parseSchedule } from '@mailbus/schedule';
import type { ConfigError } from './config-error.js';
import type { Config, Connector, VirtualServer } from './effective-config.js';
import type { ParsedConfig } from './schema.js';
import { parseListen, parseSmartHost, type SmartHost } from './smart-host.js';

const ADDRESS_SPACE = /^(?:\*|(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)$/;

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function duplicates(names: readonly string[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  names.forEach((n, i) => seen.set(n.toLowerCase(), [...(seen.get(n.toLowerCase()) ?? []), i]));
  return new Map([...seen].filter(([, idx]) => idx.length > 1));
}

/**
 * Applies every cross-field rule and resolves inheritance. Returns the effective
 * config, or every error found (never just the first).
 */
export function validateConfig(parsed: ParsedConfig): { config?: Config; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const err = (path: string, reason: string) => errors.push({ path, reason });

  for (const [name, idx] of duplicates(parsed.virtualServers.map((v) => v.name))) {
    for (const i of idx.slice(1)) err(`virtualServers[${i}].name`, `duplicate virtual server name "${name}"`);
  }
  for (const [name, idx] of duplicates(parsed.connectors.map((c) => c.name))) {
    for (const i of idx.slice(1)) err(`connectors[${i}].name`, `duplicate connector name "${name}"`);
  }
  for (const [name, idx] of duplicates(parsed.recipientPolicies.map((r) => r.domain))) {
    for (const i of idx.slice(1)) err(`recipientPolicies[${i}].domain`, `duplicate inbound domain "${name}"`);
  }

  const defaultGroup = parsed.routingGroups[0] as string;
  const virtualServers: VirtualServer[] = parsed.virtualServers.map((vs, i) => {
    const routingGroup = vs.routingGroup ?? defaultGroup;
    if (!parsed.routingGroups.includes(routingGroup)) {
      err(`virtualServers[${i}].routingGroup`, `"${routingGroup}" is not in routingGroups (${parsed.routingGroups.join(', ')})`);
    }
    if (!parseListen(vs.listen)) err(`virtualServers[${i}].listen`, `"${vs.listen}" is not host:port`);
    if (vs.outbound.smartHost !== null) {
      const r = parseSmartHost(vs.outbound.smartHost);
      if (!r.ok) err(`virtualServers[${i}].outbound.smartHost`, r.reason);
    }
    return { ...vs, routingGroup };
  });
  const vsByName = new Map(virtualServers.map((v) => [v.name.toLowerCase(), v]));

  // The server's own names and addresses: a smart host equal to one would loop.
  const ownNames = new Set<string>();
  for (const vs of virtualServers) {
    ownNames.add(vs.fqdn.toLowerCase());
    const l = parseListen(vs.listen);
    if (l && l.host !== '0.0.0.0' && l.host !== '::') ownNames.add(`${l.host}:${l.port}`);
  }
  const isOwn = (h: SmartHost, port: number): string | undefined => {
    if (ownNames.has(h.host)) return h.host;
    if (ownNames.has(`${h.host}:${h.port ?? port}`)) return `${h.host}:${h.port ?? port}`;
    return undefined;
  };

  parsed.recipientPolicies.forEach((rp, i) => {
    rp.mailboxHosts.forEach((h, j) => {
      const r = parseSmartHost(h);
      if (!r.ok) err(`recipientPolicies[${i}].mailboxHosts[${j}]`, r.reason);
    });
  });
  const inbound = new Set(parsed.recipientPolicies.map((r) => r.domain));

  const connectors: Connector[] = parsed.connectors.map((c, i) => {
    const at = (p: string) => `connectors[${i}].${p}`;
    const bridgeheads: VirtualServer[] = [];
    c.bridgeheads.forEach((b, j) => {
      const vs = vsByName.get(b.toLowerCase());
      if (!vs) err(at(`bridgeheads[${j}]`), `"${b}" names no virtual server (known: ${virtualServers.map((v) => v.name).join(', ')})`);
      else bridgeheads.push(vs);
    });
    const home = bridgeheads[0];
    const routingGroups = [...new Set(bridgeheads.map((b) => b.routingGroup))];
    if (c.scope === 'routingGroup' && routingGroups.length > 1) {
      err(at('scope'), `scope routingGroup needs bridgeheads in one routing group, but they are in ${routingGroups.join(' and ')}`);
    }

    const inherited: Connector['inherited'] = [];
    let smartHostSpecs = c.smartHosts;
    if (!c.dns && (smartHostSpecs === undefined || smartHostSpecs.length === 0)) {
      if (home?.outbound.smartHost) {
        smartHostSpecs = [home.outbound.smartHost];
        inherited.push('smartHosts');
      } else {
        err(at('smartHosts'), 'a connector needs smartHosts or dns: true (its bridgehead virtual server has no outbound.smartHost to inherit)');
      }
    }
    if (c.dns && c.smartHosts && c.smartHosts.length > 0) {
      err(at('dns'), 'set either smartHosts or dns: true, not both');
    }
    const port = c.port ?? home?.outbound.port ?? 25;
    if (c.port === undefined) inherited.push('port');
    const dnsServers = c.dnsServers ?? home?.outbound.dnsServers ?? [];
    if (c.dnsServers === undefined) inherited.push('dnsServers');
    const maxSizeKB = c.contentRestrictions.maxSizeKB ?? home?.maxMessageSizeKB ?? 10240;
    if (c.contentRestrictions.maxSizeKB === undefined) inherited.push('maxSizeKB');

    const hosts: SmartHost[] = [];
    if (!c.dns) {
      (smartHostSpecs ?? []).forEach((s, j) => {
        const where = c.smartHosts ? at(`smartHosts[${j}]`) : `virtualServers.${home?.name ?? '?'}.outbound.smartHost`;
        const r = parseSmartHost(s);
        if (!r.ok) return err(where, r.reason);
        const own = isOwn(r.value, port);
        if (own) {
          return err(where, `"${s}" is this server's own address or FQDN (${own}); delivering to it would loop the mail back`);
        }
        hosts.push(r.value);
      });
    }

    c.addressSpaces.forEach((a, j) => {
      if (!ADDRESS_SPACE.test(a.domain)) {
        err(at(`addressSpaces[${j}].domain`), `"${a.domain}" is not a domain, *.domain or *`);
      }
      if (a.cost < 1 || a.cost > 100) err(at(`addressSpaces[${j}].cost`), `cost ${a.cost} is outside 1-100`);
      if (inbound.has(a.domain)) {
        err(
          at(`addressSpaces[${j}].domain`),
          `"${a.domain}" is an inbound domain (recipientPolicies); mail for it would be sent out through this connector and come back, a mail loop that ends in NDR 5.3.5`,
        );
      }
    });

    for (const [k, list] of [['accept', c.deliveryRestrictions.accept], ['reject', c.deliveryRestrictions.reject]] as const) {
      if (c.deliveryRestrictions.accept && c.deliveryRestrictions.reject && k === 'reject') {
        err(at('deliveryRestrictions'), 'set either accept or reject, not both');
      }
      (list ?? []).forEach((s, j) => {
        if (!/^(?:@[^@\s]+|[^@\s]+@[^@\s]+)$/.test(s)) {
          err(at(`deliveryRestrictions.${k}[${j}]`), `"${s}" is neither an address (user@domain) nor @domain`);
        }
      });
    }

    if (!isValidTimeZone(c.delivery.timezone)) {
      err(at('delivery.timezone'), `"${c.delivery.timezone}" is not an IANA time zone (e.g. Europe/Berlin)`);
    } else {
      const s = parseSchedule(c.delivery.schedule, c.delivery.timezone);
      if (!s.ok) err(at('delivery.schedule'), s.reason);
      if (c.delivery.oversize) {
        const o = parseSchedule(c.delivery.oversize.schedule, c.delivery.timezone);
        if (!o.ok) err(at('delivery.oversize.schedule'), o.reason);
      }
    }
    if (c.delivery.oversize && c.delivery.oversize.thresholdKB > maxSizeKB) {
      err(
        at('delivery.oversize.thresholdKB'),
        `threshold ${c.delivery.oversize.thresholdKB} KB is above the connector's maxSizeKB ${maxSizeKB}: no message could ever be oversize`,
      );
    }
    const sec = c.outboundSecurity;
    if (sec.auth === 'basic') {
      if (!sec.username) err(at('outboundSecurity.username'), 'auth: basic needs a username');
      if (!sec.passwordEnv && !sec.passwordFile) {
        err(at('outboundSecurity'), 'auth: basic needs passwordEnv or passwordFile (passwords are never written in mailbus.yaml)');
      }
    }

    return {
      ...c,
      index: i,
      port,
      dnsServers,
      hosts,
      contentRestrictions: { ...c.contentRestrictions, maxSizeKB },
      routingGroups,
      inherited,
    };
  });

  if (errors.length > 0) return { errors };
  const { virtualServers: _v, connectors: _c, ...rest } = parsed;
  return { config: deepFreeze({ ...rest, virtualServers, connectors }), errors };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
