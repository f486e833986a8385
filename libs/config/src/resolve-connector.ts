import { parseSchedule } from '@mailbus/schedule';
import type { Connector, VirtualServer } from './effective-config.js';
import { checkAdvanced } from './resolve-advanced.js';
import type { OwnAddresses } from './own-addresses.js';
import type { ConnectorConfig } from './schema.js';
import { parseSmartHost, type SmartHost } from './smart-host.js';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const ADDRESS_SPACE = new RegExp(`^(?:\\*|(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*)$`);
const RESTRICTION_ENTRY = /^(?:@[^@\s]+|[^@\s]+@[^@\s]+)$/;

/** What a connector is checked against. */
export interface ConnectorContext {
  virtualServers: ReadonlyMap<string, VirtualServer>;
  inboundDomains: ReadonlySet<string>;
  own: OwnAddresses;
}

type Report = (path: string, reason: string) => void;

/**
 * Checks one connector and fills in what it inherits from its first bridgehead
 * virtual server (maxSizeKB, outbound port, DNS servers, smart host), reporting
 * every mistake through `err` with a `connectors[i]…` path.
 */
export function resolveConnector(
  c: ConnectorConfig,
  i: number,
  ctx: ConnectorContext,
  err: Report,
): Connector {
  const at = (p: string) => `connectors[${i}].${p}`;

  const bridgeheads: VirtualServer[] = [];
  c.bridgeheads.forEach((b, j) => {
    const vs = ctx.virtualServers.get(b.toLowerCase());
    if (vs) bridgeheads.push(vs);
    else {
      const known = [...ctx.virtualServers.values()].map((v) => v.name).join(', ');
      err(at(`bridgeheads[${j}]`), `"${b}" names no virtual server (known: ${known})`);
    }
  });
  const home = bridgeheads[0];
  const routingGroups = [...new Set(bridgeheads.map((b) => b.routingGroup))];
  if (c.scope === 'routingGroup' && routingGroups.length > 1) {
    err(
      at('scope'),
      `scope routingGroup needs bridgeheads in one routing group, but they are in ${routingGroups.join(' and ')}`,
    );
  }

  // Inheritance from the first bridgehead virtual server.
  const inherited: Connector['inherited'] = [];
  let smartHosts = c.smartHosts;
  if (c.dns) {
    if (c.smartHosts && c.smartHosts.length > 0) {
      err(at('dns'), 'set either smartHosts or dns: true, not both');
    }
  } else if (smartHosts === undefined || smartHosts.length === 0) {
    if (home?.outbound.smartHost) {
      smartHosts = [home.outbound.smartHost];
      inherited.push('smartHosts');
    } else {
      err(
        at('smartHosts'),
        home
          ? `a connector needs smartHosts or dns: true (its bridgehead virtual server ${home.name} has no outbound.smartHost to inherit)`
          : 'a connector needs smartHosts or dns: true',
      );
    }
  }
  const port = c.port ?? home?.outbound.port ?? 25;
  if (c.port === undefined) inherited.push('port');
  const dnsServers = c.dnsServers ?? home?.outbound.dnsServers ?? [];
  if (c.dnsServers === undefined) inherited.push('dnsServers');
  const maxSizeKB = c.contentRestrictions.maxSizeKB ?? home?.maxMessageSizeKB ?? 10240;
  if (c.contentRestrictions.maxSizeKB === undefined) inherited.push('maxSizeKB');

  // Smart hosts of its own; an inherited one was checked at its virtual server.
  const hosts: SmartHost[] = [];
  if (!c.dns) {
    (smartHosts ?? []).forEach((s, j) => {
      const r = parseSmartHost(s);
      if (inherited.includes('smartHosts')) {
        if (r.ok) hosts.push(r.value);
        return;
      }
      const where = at(`smartHosts[${j}]`);
      if (!r.ok) return err(where, r.reason);
      const sites = new Set(c.connectedRoutingGroups.map((g) => g.name));
      const own = ctx.own.match(r.value, port, sites);
      if (own) {
        return err(
          where,
          `"${s}" is this server's own address or FQDN (${own}); delivering to it would loop the mail back`,
        );
      }
      hosts.push(r.value);
    });
  }

  c.addressSpaces.forEach((a, j) => {
    if (!ADDRESS_SPACE.test(a.domain)) {
      err(at(`addressSpaces[${j}].domain`), `"${a.domain}" is not a domain, *.domain or *`);
    } else if (ctx.inboundDomains.has(a.domain.replace(/\.$/, ''))) {
      err(
        at(`addressSpaces[${j}].domain`),
        `"${a.domain}" is an inbound domain (recipientPolicies): listing it as an address space would send its mail out through this connector and back in, a mail loop that ends in NDRs with code 5.3.5; remove it (inbound domains are delivered to their mailbox hosts, * already covers every other domain)`,
      );
    }
    if (a.cost < 1 || a.cost > 100) {
      err(at(`addressSpaces[${j}].cost`), `cost ${a.cost} is outside 1-100`);
    }
  });

  const { accept, reject } = c.deliveryRestrictions;
  if (accept && reject) err(at('deliveryRestrictions'), 'set either accept or reject, not both');
  for (const [k, list] of [
    ['accept', accept],
    ['reject', reject],
  ] as const) {
    (list ?? []).forEach((s, j) => {
      if (!RESTRICTION_ENTRY.test(s.trim())) {
        err(
          at(`deliveryRestrictions.${k}[${j}]`),
          `"${s}" is neither an address (user@domain) nor @domain`,
        );
      }
    });
  }

  const d = c.delivery;
  if (!isValidTimeZone(d.timezone)) {
    err(
      at('delivery.timezone'),
      `"${d.timezone}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`,
    );
  } else {
    const s = parseSchedule(d.schedule, d.timezone);
    if (!s.ok) err(at('delivery.schedule'), s.reason);
    if (d.oversize) {
      const o = parseSchedule(d.oversize.schedule, d.timezone);
      if (!o.ok) err(at('delivery.oversize.schedule'), o.reason);
    }
  }
  if (d.oversize && d.oversize.thresholdKB > maxSizeKB) {
    err(
      at('delivery.oversize.thresholdKB'),
      `threshold ${d.oversize.thresholdKB} KB is above the connector's maxSizeKB ${maxSizeKB}${inherited.includes('maxSizeKB') ? ' (inherited from its bridgehead virtual server)' : ''}: no message could ever be oversize`,
    );
  }

  checkAdvanced(c, at, [...ctx.virtualServers.values()], err);

  const r = c.retry;
  if (r.delayNotifyAfter >= r.expireAfter) {
    err(
      at('retry.delayNotifyAfter'),
      'must be shorter than retry.expireAfter, or no delay DSN is ever sent',
    );
  }
  if (c.linkState.maxDownFor < c.linkState.downFor) {
    err(at('linkState.maxDownFor'), 'must not be shorter than linkState.downFor');
  }

  return {
    ...c,
    ...(c.dns ? {} : { smartHosts: smartHosts ?? [] }),
    index: i,
    port,
    dnsServers,
    hosts,
    contentRestrictions: { ...c.contentRestrictions, maxSizeKB },
    routingGroups,
    inherited,
  };
}

/** True for a time zone Intl knows (IANA names and UTC). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
