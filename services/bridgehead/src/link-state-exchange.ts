import type { Config, Connector, VirtualServer } from '@mailbus/config';
import {
  sendCommand,
  type DeliveryHost,
  type OutboundDelivery,
  type OutboundSecurity,
} from '@mailbus/delivery';
import { writeOutboundLine, type ProtocolLogWriter } from '@mailbus/protocol-log';
import type { MailQueue } from '@mailbus/queue';
import { formatLinkReport, homeGroup, type SiteLinkReport } from '@mailbus/routing';
import type { Logger } from 'pino';

/** How often a site tells the groups it connects to what it knows. */
export const LINK_STATE_INTERVAL_MS = 10_000;
const SESSION_TIMEOUT_MS = 5_000;

/**
 * Tells the routing groups this virtual server's connectors connect to which
 * connectors are down, as Exchange 2003 did with X-LINK2STATE over the
 * routing-group connectors' SMTP sessions: every LINK_STATE_INTERVAL_MS, one
 * session to each such connector's smart host (the next host when one
 * fails) carrying its own group's state and the newest it heard from others,
 * so state crosses several groups. A site it cannot reach keeps the last
 * state it heard (stale after SITE_LINK_STALE_MS). The session is opened as
 * a delivery over that connector opens one (OutboundDelivery.openSession:
 * its STARTTLS, AUTH and client certificate), so the receiving site knows
 * which bridgehead speaks.
 */
export class LinkStateExchange {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      config: Config;
      virtualServer: VirtualServer;
      queue: MailQueue;
      logger: Logger;
      /** The node's SMTP client (the bridgehead's). */
      outbound: Pick<OutboundDelivery, 'openSession'>;
      /** The connector's Outbound Security, as its deliveries use it. */
      security: (c: Connector) => OutboundSecurity;
      protocolLog?: ProtocolLogWriter;
      intervalMs?: number;
    },
  ) {}

  start(): void {
    const tick = () => {
      if (this.running) return;
      this.running = this.round()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'link state exchange failed'))
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.deps.intervalMs ?? LINK_STATE_INTERVAL_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One exchange: this group's state and what it heard, to every group it connects to. */
  async round(now = Date.now()): Promise<void> {
    const { config, virtualServer: vs, queue } = this.deps;
    const here = vs.routingGroup;
    const own = config.connectors.filter((c) => homeGroup(c) === here).map((c) => c.name);
    const local = await queue.links.down(own, now);
    const heard = (await queue.siteLinks.all()).filter((r) => r.group !== here);
    const reports: SiteLinkReport[] = [{ group: here, at: now, down: [...local] }, ...heard];
    const mine = config.connectors.filter(
      (c) =>
        c.connectedRoutingGroups.length > 0 &&
        c.bridgeheads.some((b) => b.toLowerCase() === vs.name.toLowerCase()),
    );
    await Promise.all(
      mine.map(async (c) => {
        const to = new Set(c.connectedRoutingGroups.map((g) => g.name));
        const send = reports.filter((r) => !to.has(r.group));
        for (const h of c.hosts) {
          try {
            await this.tell(c, { name: h.host, address: h.host, port: h.port ?? c.port }, send);
            return;
          } catch (err) {
            this.deps.logger.debug({ err, connector: c.name, host: h.host }, 'link state not sent');
          }
        }
      }),
    );
  }

  private async tell(c: Connector, host: DeliveryHost, reports: SiteLinkReport[]): Promise<void> {
    const log = this.deps.protocolLog;
    const conn = await this.deps.outbound.openSession(host, {
      connector: c.name,
      heloName: this.deps.virtualServer.fqdn,
      security: this.deps.security(c),
      ...(log ? { onProtocol: (l) => writeOutboundLine(log, l) } : {}),
    });
    try {
      for (const r of reports) {
        const line = `X-LINK2STATE ${formatLinkReport(r)}`;
        const reply = await sendCommand(conn, line, SESSION_TIMEOUT_MS);
        if (!reply.startsWith('250')) throw new Error(`${line}: ${reply || 'no reply'}`);
      }
      conn.quit();
    } catch (err) {
      conn.close();
      throw err;
    }
  }
}
