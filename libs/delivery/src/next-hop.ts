import { parseSmartHost, type Connector } from '@mailbus/config';
import { reply, type SmtpReply } from '@mailbus/smtp';
import {
  resolveMx,
  type DeliveryHost,
  type MxResolution,
  type ResolveOptions,
} from './resolve-mx.js';

/** Recipients that go to one list of hosts (tried in order), or that cannot go anywhere. */
export type HopGroup<R> =
  | { readonly hosts: DeliveryHost[]; readonly recipients: R[] }
  | { readonly error: SmtpReply; readonly permanent: boolean; readonly recipients: R[] };

export interface NextHopInput<R extends { address: string }> {
  recipients: readonly R[];
  /** The connector; undefined = local delivery to `mailboxHosts`. */
  connector: Connector | undefined;
  /** Mailbox hosts of an inbound domain (`host` or `[ip]:port`), for local delivery. */
  mailboxHosts?: readonly string[] | undefined;
  /** Port when a mailbox host names none (the virtual server's outbound.port). */
  defaultPort: number;
  /** Names and `address:port` of this organisation's own ingress: an MX equal to one is a loop. */
  ownHosts: ReadonlySet<string>;
  /** MX lookup; resolveMx unless a test gives another. */
  resolve?: (domain: string, o: ResolveOptions) => Promise<MxResolution>;
  random?: () => number;
}

/**
 * Where recipients go next:
 * - a connector with smart hosts: those hosts in order, all recipients together;
 * - a DNS connector: per recipient domain, its MX hosts (implicit MX: the
 *   domain's own address), or a DSN-worthy error: null MX 5.1.10, no such
 *   domain 5.1.2 (permanent), SERVFAIL or timeout (transient), an MX that is
 *   our own ingress 5.4.6 (permanent, mail loop);
 * - local delivery: the inbound domain's mailbox hosts.
 */
export async function resolveNextHops<R extends { address: string }>(
  input: NextHopInput<R>,
): Promise<HopGroup<R>[]> {
  const { connector, recipients } = input;
  if (!connector) {
    const hosts = (input.mailboxHosts ?? []).flatMap((h) => {
      const p = parseSmartHost(h);
      return p.ok
        ? [{ name: p.value.host, address: p.value.host, port: p.value.port ?? input.defaultPort }]
        : [];
    });
    return [{ hosts, recipients: [...recipients] }];
  }
  if (!connector.dns) {
    const hosts = connector.hosts.map((h) => ({
      name: h.host,
      address: h.host,
      port: h.port ?? connector.port,
    }));
    return [{ hosts, recipients: [...recipients] }];
  }
  const byDomain = new Map<string, R[]>();
  for (const r of recipients) {
    const d = (r.address.split('@').pop() ?? '').toLowerCase();
    byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
  }
  const resolve = input.resolve ?? resolveMx;
  const groups: HopGroup<R>[] = [];
  for (const [domain, rs] of byDomain) {
    const mx = await resolve(domain, {
      dnsServers: connector.dnsServers,
      port: connector.port,
      ...(input.random ? { random: input.random } : {}),
    });
    if (!mx.ok) {
      groups.push({ error: mx.reply, permanent: mx.permanent, recipients: rs });
      continue;
    }
    const loop = mx.hosts.find(
      (h) =>
        input.ownHosts.has(h.name.toLowerCase()) || input.ownHosts.has(`${h.address}:${h.port}`),
    );
    if (loop)
      groups.push({
        error: reply(
          554,
          '5.4.6',
          `Mail loop: the next hop ${loop.name} [${loop.address}] is this organisation's own ingress`,
        ),
        permanent: true,
        recipients: rs,
      });
    else groups.push({ hosts: mx.hosts, recipients: rs });
  }
  return groups;
}
