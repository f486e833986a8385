import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { Answer, Question } from 'dns-packet';

/** What the server knows about one name. */
export interface DnsZoneEntry {
  /** MX records; `{ preference: 0, exchange: '.' }` alone is a null MX (RFC 7505). */
  mx?: Array<{ preference: number; exchange: string }>;
  a?: string[];
  aaaa?: string[];
  /** Answer every query for this name with this error code instead. */
  rcode?: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
  /** Never answer (the client times out). */
  silent?: boolean;
}

/** Names (lower case, no trailing dot) → records. A name absent from the zone is NXDOMAIN. */
export type DnsZone = Record<string, DnsZoneEntry>;

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/**
 * An authoritative DNS server on a free UDP port of 127.0.0.1, serving a zone
 * given as data: the real resolver of a test (node's c-ares talks to it as to
 * any server). The zone may be changed while it runs.
 */
export class DnsServer {
  /** Every question asked, as "TYPE name". */
  readonly queries: string[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    public zone: DnsZone,
  ) {}

  /** `127.0.0.1:<port>`: what goes into `dnsServers`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(zone: DnsZone): Promise<DnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    const server = new DnsServer(socket, socket.address().port, zone);
    socket.on('message', (msg, rinfo) => {
      const res = server.answer(msg);
      if (res) socket.send(res, rinfo.port, rinfo.address);
    });
    socket.on('error', () => undefined);
    return server;
  }

  private answer(msg: Buffer): Buffer | undefined {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    const q: Question | undefined = query.questions?.[0];
    if (!q) return undefined;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    this.queries.push(`${q.type} ${name}`);
    const entry = this.zone[name];
    if (entry?.silent) return undefined;
    const rcode = entry ? RCODE[entry.rcode ?? 'NOERROR'] : RCODE.NXDOMAIN;
    const answers: Answer[] = [];
    if (entry && rcode === RCODE.NOERROR) {
      if (q.type === 'MX')
        for (const m of entry.mx ?? [])
          answers.push({
            type: 'MX',
            name: q.name,
            ttl: 60,
            data: { preference: m.preference, exchange: m.exchange === '.' ? '' : m.exchange },
          });
      if (q.type === 'A')
        for (const ip of entry.a ?? [])
          answers.push({ type: 'A', name: q.name, ttl: 60, data: ip });
      if (q.type === 'AAAA')
        for (const ip of entry.aaaa ?? [])
          answers.push({ type: 'AAAA', name: q.name, ttl: 60, data: ip });
    }
    const authorities: Answer[] =
      answers.length === 0 && rcode !== RCODE.SERVFAIL && rcode !== RCODE.REFUSED
        ? [
            {
              type: 'SOA',
              name: 'test',
              ttl: 60,
              data: {
                mname: 'ns.test',
                rname: 'hostmaster.test',
                serial: 1,
                refresh: 60,
                retry: 60,
                expire: 60,
                minimum: 60,
              },
            },
          ]
        : [];
    return dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode,
      questions: [q],
      answers,
      authorities,
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
