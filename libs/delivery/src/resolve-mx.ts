import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { reply, type SmtpReply } from '@mailbus/smtp';

/** A host to try, in order. */
export interface DeliveryHost {
  /** Name (MX exchange or smart host) as configured or resolved. */
  name: string;
  /** Address or name to connect to. */
  address: string;
  port: number;
}

export type MxResolution =
  { ok: true; hosts: DeliveryHost[] } | { ok: false; permanent: boolean; reply: SmtpReply };

export interface ResolveOptions {
  /** DNS servers (ip or ip:port); empty = the system's. */
  dnsServers: readonly string[];
  port: number;
  /** 0 <= random() < 1, for ordering MX hosts of equal preference. */
  random?: () => number;
  timeoutMs?: number;
}

function dnsCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e
    ? String((e as { code: unknown }).code)
    : '';
}

function resolver(o: ResolveOptions): Resolver {
  const r = new Resolver({ timeout: o.timeoutMs ?? 3000, tries: 2 });
  if (o.dnsServers.length > 0) r.setServers([...o.dnsServers]);
  return r;
}

async function addresses(r: Resolver, name: string): Promise<{ list: string[]; error?: string }> {
  const out: string[] = [];
  let error: string | undefined;
  for (const fn of [() => r.resolve4(name), () => r.resolve6(name)]) {
    try {
      out.push(...(await fn()));
    } catch (e) {
      const c = dnsCode(e);
      if (c !== 'ENODATA') error = error ?? c;
    }
  }
  return error !== undefined ? { list: out, error } : { list: out };
}

/**
 * Resolves the hosts for a domain the way an MTA must (RFC 5321 section 5,
 * RFC 7505): MX by preference, random among equal preference; no MX ⇒ the
 * domain's own A/AAAA (implicit MX); a null MX ⇒ 5.1.10; NXDOMAIN ⇒ 5.1.2;
 * SERVFAIL or timeout ⇒ transient 4.4.3.
 */
export async function resolveMx(domain: string, o: ResolveOptions): Promise<MxResolution> {
  const random = o.random ?? Math.random;
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const ip = domain.slice(1, -1).replace(/^IPv6:/i, '');
    if (isIP(ip)) return { ok: true, hosts: [{ name: ip, address: ip, port: o.port }] };
  }
  const r = resolver(o);
  let mx: Array<{ exchange: string; priority: number }> = [];
  try {
    mx = await r.resolveMx(domain);
  } catch (e) {
    const c = dnsCode(e);
    if (c === 'ENOTFOUND')
      return {
        ok: false,
        permanent: true,
        reply: reply(550, '5.1.2', `Domain ${domain} does not exist (NXDOMAIN)`),
      };
    if (c !== 'ENODATA')
      return {
        ok: false,
        permanent: false,
        reply: reply(451, '4.4.3', `DNS lookup of MX for ${domain} failed (${c || 'error'})`),
      };
  }
  if (mx.length === 1 && (mx[0]?.exchange === '' || mx[0]?.exchange === '.')) {
    return {
      ok: false,
      permanent: true,
      reply: reply(556, '5.1.10', `Domain ${domain} does not accept mail (null MX)`),
    };
  }
  if (mx.length === 0) {
    const a = await addresses(r, domain);
    if (a.list.length > 0)
      return { ok: true, hosts: a.list.map((ip) => ({ name: domain, address: ip, port: o.port })) };
    if (a.error === 'ENOTFOUND')
      return {
        ok: false,
        permanent: true,
        reply: reply(550, '5.1.2', `Domain ${domain} does not exist (NXDOMAIN)`),
      };
    if (a.error)
      return {
        ok: false,
        permanent: false,
        reply: reply(451, '4.4.3', `DNS lookup of ${domain} failed (${a.error})`),
      };
    return {
      ok: false,
      permanent: true,
      reply: reply(550, '5.1.2', `Domain ${domain} has no MX and no address`),
    };
  }
  const ordered = mx
    .filter((m) => m.exchange !== '' && m.exchange !== '.')
    .map((m) => ({ ...m, tie: random() }))
    .sort((a, b) => a.priority - b.priority || a.tie - b.tie);
  const hosts: DeliveryHost[] = [];
  let lastError: string | undefined;
  for (const m of ordered) {
    const a = await addresses(r, m.exchange);
    if (a.error) lastError = a.error;
    for (const ip of a.list)
      hosts.push({ name: m.exchange.toLowerCase(), address: ip, port: o.port });
  }
  if (hosts.length === 0) {
    return {
      ok: false,
      permanent: false,
      reply: reply(
        451,
        '4.4.3',
        `No address for the MX hosts of ${domain}${lastError ? ` (${lastError})` : ''}`,
      ),
    };
  }
  return { ok: true, hosts };
}
