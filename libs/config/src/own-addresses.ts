import { isIP } from 'node:net';
import { parseListen, type SmartHost } from './smart-host.js';

/** The names and addresses the configured virtual servers answer on. */
export interface OwnAddresses {
  /**
   * The own address or FQDN a smart host points at, or undefined. `port` is
   * the port used when the smart host names none (the connector's port).
   */
  match(host: SmartHost, port: number): string | undefined;
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
  virtualServers: ReadonlyArray<{ fqdn: string; listen: string }>,
): OwnAddresses {
  const names = new Set<string>();
  const endpoints = new Set<string>();
  const wildcardPorts = new Set<number>();
  for (const vs of virtualServers) {
    names.add(vs.fqdn.trim().toLowerCase().replace(/\.$/, ''));
    const l = parseListen(vs.listen);
    if (!l) continue;
    if (l.host === '0.0.0.0' || l.host === '::') wildcardPorts.add(l.port);
    else endpoints.add(`${l.host.toLowerCase()}:${l.port}`);
  }
  return {
    match(host, port) {
      const h = host.host.toLowerCase();
      const p = host.port ?? port;
      if (!host.literal && names.has(h)) return h;
      if (endpoints.has(`${h}:${p}`)) return `${host.literal ? `[${h}]` : h}:${p}`;
      if (host.literal && isLoopback(h) && wildcardPorts.has(p)) return `[${h}]:${p}`;
      return undefined;
    },
  };
}
