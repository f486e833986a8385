import { isIP } from 'node:net';
import { parseListen, type SmartHost } from './smart-host.js';

/** The names and addresses the configured virtual servers answer on. */
export interface OwnAddresses {
  /**
   * The own address or FQDN a smart host points at, or undefined. `port` is
   * the port used when the smart host names none (the connector's port).
   * Virtual servers of the routing groups in `otherSites` are not counted: a
   * connector that connects routing groups delivers to them on purpose.
   */
  match(host: SmartHost, port: number, otherSites?: ReadonlySet<string>): string | undefined;
}

function isLoopback(ip: string): boolean {
  const v = ip.toLowerCase().replace(/^::ffff:/, '');
  return v === '::1' || (isIP(v) === 4 && v.startsWith('127.'));
}

/**
 * Collects each virtual server's FQDN and listen address: a smart host equal
 * to one would send the mail straight back to this organisation's ingress. A
 * wildcard listen (0.0.0.0 / ::) answers on loopback too.
 */
export function ownAddresses(
  virtualServers: ReadonlyArray<{ fqdn: string; listen: string; routingGroup?: string }>,
  defaultGroup = '',
): OwnAddresses {
  const names = new Map<string, string>();
  const endpoints = new Map<string, string>();
  const wildcardPorts = new Map<number, string>();
  for (const vs of virtualServers) {
    const group = vs.routingGroup ?? defaultGroup;
    names.set(vs.fqdn.trim().toLowerCase().replace(/\.$/, ''), group);
    const l = parseListen(vs.listen);
    if (!l) continue;
    if (l.host === '0.0.0.0' || l.host === '::') wildcardPorts.set(l.port, group);
    else endpoints.set(`${l.host.toLowerCase()}:${l.port}`, group);
  }
  return {
    match(host, port, otherSites = new Set()) {
      const h = host.host.toLowerCase();
      const p = host.port ?? port;
      const own = (group: string | undefined) => group !== undefined && !otherSites.has(group);
      if (!host.literal && own(names.get(h))) return h;
      if (own(endpoints.get(`${h}:${p}`))) return `${host.literal ? `[${h}]` : h}:${p}`;
      if (host.literal && isLoopback(h) && own(wildcardPorts.get(p))) return `[${h}]:${p}`;
      return undefined;
    },
  };
}
