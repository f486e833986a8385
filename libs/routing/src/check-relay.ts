import { BlockList, isIP } from 'node:net';
import type { Config } from '@mailbus/config';
import { addressSpaceSpecificity } from './address-space-specificity.js';
import { parseRecipient } from './parse-recipient.js';

/** Who is asking to relay: the SMTP client of the session. */
export interface RelayClient {
  clientIp: string;
  authenticated: boolean;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`; other addresses unchanged (zone id dropped). */
function plainIp(ip: string): string {
  const s = ip.trim().replace(/%.*$/, '');
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  return m ? (m[1] as string) : s;
}

/** A BlockList of IPs and CIDR ranges; entries that do not parse are skipped (validation reports them). */
export function buildIpList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = '', prefixText] = entry.trim().split('/');
    const ip = plainIp(addr);
    const family = isIP(ip);
    if (family === 0) continue;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(ip, type);
      continue;
    }
    const prefix = Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) continue;
    list.addSubnet(ip, prefix, type);
  }
  return list;
}

// The config is frozen, so a virtual server's allow list can be built once per RCPT-heavy session.
const relayLists = new WeakMap<readonly string[], BlockList>();
function relayList(entries: readonly string[]): BlockList {
  let list = relayLists.get(entries);
  if (!list) {
    list = buildIpList(entries);
    relayLists.set(entries, list);
  }
  return list;
}

/** True when the client IP is in the list; IPv4-mapped IPv6 addresses are checked as IPv4. */
export function ipInList(list: BlockList, clientIp: string): boolean {
  const ip = plainIp(clientIp);
  const family = isIP(ip);
  if (family === 0) return false;
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Relay check at RCPT TO for a virtual server. Accepted when the domain is
 * inbound, the client IP is in `relay.allow`, the client authenticated and
 * `relay.allowAuthenticated` is set, or the domain matches an address space
 * (any, `*` included) of a connector with `allowRelay`. Open-relay probe forms
 * (`%`, `!`, quoted `@`, source routes, IP-literal domains) never pass the
 * inbound / allowRelay paths, only the trusted-client paths.
 */
export function checkRelay(
  config: Config,
  virtualServerName: string,
  client: RelayClient,
  recipient: string,
): boolean {
  const vsName = virtualServerName.toLowerCase();
  const vs = config.virtualServers.find((v) => v.name.toLowerCase() === vsName);
  if (vs) {
    if (client.authenticated && vs.relay.allowAuthenticated) return true;
    if (ipInList(relayList(vs.relay.allow), client.clientIp)) return true;
  }
  const { domain, relayProbe } = parseRecipient(recipient);
  if (relayProbe) return false;
  if (config.recipientPolicies.some((p) => p.domain === domain)) return true;
  return config.connectors.some(
    (c) =>
      c.allowRelay &&
      c.addressSpaces.some((a) => addressSpaceSpecificity(a.domain, domain) !== undefined),
  );
}
