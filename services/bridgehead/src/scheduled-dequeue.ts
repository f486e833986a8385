import { parseSmartHost, type Config, type Connector, type VirtualServer } from '@mailbus/config';
import {
  requestEtrn,
  requestTurn,
  type DeliveryHost,
  type OutboundDelivery,
  type OutboundSecurity,
} from '@mailbus/delivery';
import { writeOutboundLine, type ProtocolLogWriter } from '@mailbus/protocol-log';
import type { MailQueue } from '@mailbus/queue';
import { nextConnectionTime, parseSchedule, type Schedule } from '@mailbus/schedule';
import type { Metrics } from '@mailbus/telemetry';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { reportEtrn, reportTurn } from './dequeue-report.js';
import type { ReceiveOn } from './turn-after-delivery.js';

export interface ScheduledDequeueDeps {
  config: Config;
  queue: MailQueue;
  outbound: OutboundDelivery;
  logger: Logger;
  metrics?: Metrics;
  protocolLogs?: ReadonlyMap<string, ProtocolLogWriter>;
  /** The connector's outbound security, with its password resolved. */
  security: (connector: Connector) => OutboundSecurity;
  /** Serves SMTP on a reversed connection (TURN/ATRN) as the virtual server's ingress. */
  receiveOn?: ReceiveOn;
  now?: () => number;
  /** Reply timeout for ETRN and TURN (ms). */
  replyTimeoutMs?: number;
}

/** One connector with a different server to request from, and the virtual server it sends as. */
interface Target {
  connector: Connector;
  vs: VirtualServer;
  schedule: Schedule;
  host: DeliveryHost;
}

/** How long a lease outlives its due time: past any window, so a node started late in it stays out. */
const LEASE_MS = 8 * 86_400_000;

/**
 * "Request ETRN/TURN from a different server … and then specify a connection
 * time" (seed 002, DESIGN 8): for each connector with `advanced.server` and
 * `advanced.schedule` that this node sends for, connects to that server at
 * each connection time (nextConnectionTime), with or without mail to send,
 * and issues ETRN for the domains, or TURN/ATRN and receives. Every node
 * that sends for the connector keeps the timer; for each due time one Redis
 * lease (SET NX) decides which node connects, so exactly one does, whichever
 * nodes are up.
 */
export class ScheduledDequeue {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: ScheduledDequeueDeps) {}

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(vsFor: (c: Connector) => VirtualServer | undefined): void {
    for (const c of this.deps.config.connectors) {
      const a = c.advanced;
      if (a.request === 'none' || a.server === undefined || a.schedule === undefined) continue;
      const vs = vsFor(c);
      const parsed = parseSchedule(a.schedule, c.delivery.timezone);
      const server = parseSmartHost(a.server);
      if (!vs || !parsed.ok || !server.ok) continue;
      const h = server.value;
      const host = { name: h.host, address: h.host, port: h.port ?? c.port };
      this.plan({ connector: c, vs, schedule: parsed.schedule, host });
    }
  }

  /** Waits for the next connection time after `last`, then takes its lease and connects. */
  private plan(t: Target, last?: number): void {
    if (this.stopped) return;
    const next = nextConnectionTime(t.schedule, this.now, last);
    if (!next) return;
    // Timers fire late or early by a little: the wait is recomputed when one fires.
    const wait = Math.min(Math.max(0, next.at - this.now), 86_400_000);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (next.at > this.now) return this.plan(t, last);
      const run = this.fire(t, next.due).finally(() => {
        this.running.delete(run);
        this.plan(t, next.due);
      });
      this.running.add(run);
    }, wait);
    timer.unref();
    this.timers.add(timer);
  }

  private async fire(t: Target, due: number): Promise<void> {
    const c = t.connector;
    const key = this.deps.queue.keys.dequeueLease(c.name, due);
    const node = this.deps.queue.node;
    const won = await this.deps.queue.redis
      .set(key, node, 'PX', LEASE_MS, 'NX')
      .then((r) => r === 'OK')
      .catch((err: unknown) => {
        this.deps.logger.warn({ err, connector: c.name }, 'connection time: lease not taken');
        return false;
      });
    const at = new Date(due).toISOString();
    if (!won) {
      this.deps.logger.info(
        { connector: c.name, due: at },
        'connection time: another node requests for this due time',
      );
      return;
    }
    await this.request(t, `${c.advanced.request.toUpperCase()}.${c.name}.${due}`).catch(
      (err: unknown) =>
        this.deps.logger.warn({ err, connector: c.name, due: at }, 'connection time failed'),
    );
  }

  /** Connects to the server and issues ETRN for each domain, or TURN/ATRN and receives. */
  private async request(t: Target, trackId: string): Promise<void> {
    const { connector: c, host, vs } = t;
    const log = this.deps.protocolLogs?.get(vs.name);
    const timeout = this.deps.replyTimeoutMs ?? 60_000;
    this.deps.logger.info(
      { connector: c.name, host: `${host.name}:${host.port}`, tracking_id: trackId },
      `connection time: requesting ${c.advanced.request.toUpperCase()}`,
    );
    const conn = await this.deps.outbound.openSession(host, {
      connector: c.name,
      heloName: vs.fqdn,
      security: this.deps.security(c),
      ...(log ? { onProtocol: (l) => writeOutboundLine(log, l) } : {}),
    });
    if (c.advanced.request === 'etrn') {
      const r = await requestEtrn(conn, c.advanced.domains, timeout);
      reportEtrn(c.name, trackId, r.outcomes, host, this.deps);
      conn.quit();
      return;
    }
    if (!this.deps.receiveOn) {
      conn.quit();
      throw new Error('this node cannot receive on a reversed connection');
    }
    const o = await requestTurn(conn, c.advanced.domains, timeout);
    reportTurn(c.name, trackId, o, host, this.deps);
    if (!o.socket) return conn.quit();
    await this.deps.receiveOn(vs.name, o.socket as Socket);
  }

  /** Stops the timers and waits for requests in flight. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }
}
