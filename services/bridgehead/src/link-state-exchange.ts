import { connect, type Socket } from 'node:net';
import type { Config, VirtualServer } from '@mailbus/config';
import type { MailQueue } from '@mailbus/queue';
import { formatLinkReport, homeGroup, type SiteLinkReport } from '@mailbus/routing';
import type { Logger } from 'pino';

/** How often a site tells the groups it connects to what it knows. */
export const LINK_STATE_INTERVAL_MS = 10_000;
const SESSION_TIMEOUT_MS = 5_000;

/** A tiny SMTP client: the replies come back in order, one per command (multi-line joined). */
function session(
  host: string,
  port: number,
): Promise<{
  command: (line: string | null) => Promise<string>;
  socket: Socket;
}> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(SESSION_TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    let buffer = '';
    let lines: string[] = [];
    const early: string[] = [];
    const waiting: Array<{ ok: (r: string) => void; fail: (e: Error) => void }> = [];
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        lines.push(line);
        if (/^\d{3}(?: |$)/.test(line)) {
          const w = waiting.shift();
          if (w) w.ok(lines.join('\n'));
          else early.push(lines.join('\n'));
          lines = [];
        }
      }
    });
    socket.on('error', (e) => {
      for (const w of waiting.splice(0)) w.fail(e);
      reject(e);
    });
    socket.on('close', () => {
      for (const w of waiting.splice(0)) w.fail(new Error('connection closed'));
    });
    const command = (line: string | null) =>
      new Promise<string>((ok, fail) => {
        if (line !== null) socket.write(`${line}\r\n`);
        const r = early.shift();
        if (r !== undefined) ok(r);
        else waiting.push({ ok, fail });
      });
    socket.once('connect', () => resolve({ command, socket }));
  });
}

/**
 * Tells the routing groups this virtual server's connectors connect to which
 * connectors are down, as Exchange 2003 did with X-LINK2STATE over the
 * routing-group connectors' SMTP sessions: every LINK_STATE_INTERVAL_MS, one
 * session to each such connector's smart host (the next host when one
 * fails) carrying its own group's state and the newest it heard from others,
 * so state crosses several groups. A site it cannot reach keeps the last
 * state it heard (stale after SITE_LINK_STALE_MS).
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
            await this.tell(h.host, h.port ?? c.port, send);
            return;
          } catch (err) {
            this.deps.logger.debug({ err, connector: c.name, host: h.host }, 'link state not sent');
          }
        }
      }),
    );
  }

  private async tell(host: string, port: number, reports: SiteLinkReport[]): Promise<void> {
    const s = await session(host, port);
    try {
      const expect = async (line: string | null, code: string) => {
        const r = await s.command(line);
        if (!r.split('\n').at(-1)?.startsWith(code)) throw new Error(`${line ?? 'greeting'}: ${r}`);
      };
      await expect(null, '220');
      await expect(`EHLO ${this.deps.virtualServer.fqdn}`, '250');
      for (const r of reports) await expect(`X-LINK2STATE ${formatLinkReport(r)}`, '250');
      await s.command('QUIT').catch(() => undefined);
    } finally {
      s.socket.destroy();
    }
  }
}
