import { Worker } from 'bullmq';
import type { Config, Connector, VirtualServer } from '@mailbus/config';
import { parseListen } from '@mailbus/config';
import { OutboundDelivery, type OutboundSecurity } from '@mailbus/delivery';
import type { ProtocolLogWriter } from '@mailbus/protocol-log';
import {
  LOCAL_DELIVERY,
  POISON_BACKOFF,
  poisonBackoff,
  type DeliveryJobData,
  type MailQueue,
  type RedisClient,
  WorkerWatchdog,
} from '@mailbus/queue';
import type { Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import { DeliveryProcessor } from './delivery-processor.js';
import type { DsnRequest } from './dsn-request.js';
import { onJobFailed } from './parked-jobs.js';
import { connectorSecrets, outboundSecurity } from './outbound-security.js';
import { ScheduledDequeue } from './scheduled-dequeue.js';
import type { ReceiveOn } from './turn-after-delivery.js';

export interface BridgeheadDeps {
  config: Config;
  /** Virtual servers this node runs; it delivers for connectors whose bridgeheads name one of them. */
  virtualServers: readonly VirtualServer[];
  queue: MailQueue;
  /** Connection for BullMQ workers (maxRetriesPerRequest null). */
  workerConnection: RedisClient;
  logger: Logger;
  metrics?: Metrics;
  protocolLogs?: ReadonlyMap<string, ProtocolLogWriter>;
  sendDsn: (req: DsnRequest) => Promise<void>;
  env?: Readonly<Record<string, string | undefined>>;
  readFile?: (path: string) => string;
  /** BullMQ lock duration; a killed bridgehead's jobs are picked up after about this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Wait before the first retry of a job that failed unexpectedly (doubles each time). */
  poisonBackoffMs?: number;
  /** Serves SMTP on a connection TURN/ATRN reversed, as that virtual server's ingress. */
  receiveOn?: ReceiveOn;
}

/**
 * Undocumented test knobs (a killed bridgehead's jobs are picked up after the
 * lock duration): a positive integer of milliseconds, else undefined.
 */
function msFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): number | undefined {
  const v = Number(env[name]);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * A bridgehead: BullMQ workers for the queues of every connector whose
 * `bridgeheads` name one of this node's virtual servers (and the local
 * delivery queue). Any number of bridgeheads may consume the same queues.
 */
export class Bridgehead {
  /** Each worker under a watchdog that restarts it when it stops fetching. */
  private readonly workers: WorkerWatchdog<Worker<DeliveryJobData>>[] = [];
  /** The SMTP client of every delivery, connection time and link-state exchange of this node. */
  readonly outbound: OutboundDelivery;
  /** A connector's Outbound Security (TLS, AUTH, client certificate), as every session over it uses it. */
  security: (c: Connector | undefined) => OutboundSecurity = (c) => outboundSecurity(c, undefined);
  /** Connection times of connectors with a different server to request ETRN/TURN from. */
  private dequeue: ScheduledDequeue | undefined;
  private vsFor: ((c: Connector) => VirtualServer | undefined) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: BridgeheadDeps) {
    const maxConcurrency = Math.max(20, ...deps.config.connectors.map((c) => c.concurrency));
    this.outbound = new OutboundDelivery(undefined, maxConcurrency);
  }

  /** Connector names this node delivers for. */
  connectors(): string[] {
    const mine = new Set(this.deps.virtualServers.map((v) => v.name.toLowerCase()));
    return this.deps.config.connectors
      .filter((c) => c.bridgeheads.some((b) => mine.has(b.toLowerCase())))
      .map((c) => c.name);
  }

  /** Resolves when every worker is connected and taking jobs (bounded by `ms`). */
  async ready(ms = 15_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    });
    await Promise.race([
      Promise.all(this.workers.map((w) => w.worker.waitUntilReady().catch(() => undefined))),
      deadline,
    ]);
    clearTimeout(timer);
  }

  start(): void {
    const { config, queue } = this.deps;
    const ownHosts = new Set<string>();
    for (const vs of config.virtualServers) {
      ownHosts.add(vs.fqdn.toLowerCase());
      const l = parseListen(vs.listen);
      if (l) ownHosts.add(`${l.host}:${l.port}`);
    }
    const env = this.deps.env ?? {};
    const secrets = connectorSecrets(config, env, this.deps.readFile);
    this.security = (c) => outboundSecurity(c, c ? secrets.get(c.name) : undefined);
    const processorFor = (vs: VirtualServer) =>
      new DeliveryProcessor({
        config,
        virtualServer: vs,
        queue,
        outbound: this.outbound,
        logger: this.deps.logger.child({ category: 'delivery' }),
        ...(this.deps.metrics ? { metrics: this.deps.metrics } : {}),
        ...(this.deps.protocolLogs?.get(vs.name)
          ? { protocolLog: this.deps.protocolLogs.get(vs.name) as ProtocolLogWriter }
          : {}),
        sendDsn: this.deps.sendDsn,
        ownHosts,
        security: this.security,
        ...(this.deps.receiveOn ? { receiveOn: this.deps.receiveOn } : {}),
      });
    const home = this.deps.virtualServers[0];
    if (!home) return;
    const byVs = new Map(this.deps.virtualServers.map((v) => [v.name.toLowerCase(), v]));
    const targets: Array<{ connector: string; vs: VirtualServer; concurrency: number }> = [];
    for (const c of config.connectors) {
      const vs = c.bridgeheads.map((b) => byVs.get(b.toLowerCase())).find((v) => v !== undefined);
      if (vs) targets.push({ connector: c.name, vs, concurrency: c.concurrency });
    }
    targets.push({ connector: LOCAL_DELIVERY, vs: home, concurrency: 20 });
    this.dequeue = new ScheduledDequeue({
      config,
      queue,
      outbound: this.outbound,
      logger: this.deps.logger.child({ category: 'delivery' }),
      ...(this.deps.metrics ? { metrics: this.deps.metrics } : {}),
      ...(this.deps.protocolLogs ? { protocolLogs: this.deps.protocolLogs } : {}),
      ...(this.deps.receiveOn ? { receiveOn: this.deps.receiveOn } : {}),
      security: this.security,
    });
    this.vsFor = (c) =>
      c.bridgeheads.map((b) => byVs.get(b.toLowerCase())).find((v) => v !== undefined);
    const backoff = poisonBackoff(
      this.deps.poisonBackoffMs ?? msFromEnv(env, 'MAILBUS_POISON_BACKOFF_MS') ?? 30_000,
    );
    const parkedDeps = {
      queue,
      logger: this.deps.logger.child({ category: 'delivery' }),
      ...(this.deps.metrics ? { metrics: this.deps.metrics } : {}),
    };
    for (const t of targets) {
      const processor = processorFor(t.vs);
      for (const q of queue.queues.all(t.connector)) {
        const watchdog = new WorkerWatchdog({
          concurrency: t.concurrency,
          readyJobs: () => q.getJobCountByTypes('wait', 'prioritized'),
          onRestart: (e) => {
            this.deps.logger.warn(e, 'worker stopped fetching jobs; restarting it');
            this.deps.metrics?.workerRestarts.inc({ queue: e.queue });
          },
          create: (track) => {
            const w = new Worker<DeliveryJobData>(
              q.name,
              (job, token) => track(() => processor.process(job, token)),
              {
                connection: this.deps.workerConnection,
                prefix: queue.keys.prefix,
                concurrency: t.concurrency,
                lockDuration:
                  this.deps.lockDurationMs ?? msFromEnv(env, 'MAILBUS_LOCK_DURATION_MS') ?? 30_000,
                stalledInterval:
                  this.deps.stalledIntervalMs ??
                  msFromEnv(env, 'MAILBUS_STALLED_INTERVAL_MS') ??
                  30_000,
                // A job whose worker dies this often (it may be what kills it) is parked too.
                maxStalledCount: 10,
                settings: {
                  backoffStrategy: (attemptsMade: number, type?: string) =>
                    type === POISON_BACKOFF ? backoff(attemptsMade) : 30_000,
                },
                // After a connection error (Redis restarted, a failover, a Cluster still
                // settling) fetch again after 1 s, not BullMQ's 15 s: a worker whose first
                // fetches failed left a started node idle for 30 s.
                runRetryDelay: 1000,
                skipVersionCheck: true,
              },
            );
            w.on('error', (err) =>
              this.deps.logger.warn({ err, connector: t.connector }, 'worker error'),
            );
            w.on('failed', (job, err) => onJobFailed(parkedDeps, t.connector, job, err));
            return w;
          },
        });
        this.workers.push(watchdog);
      }
    }
    this.deps.logger.info({ connectors: targets.map((t) => t.connector) }, 'bridgehead delivering');
  }

  /**
   * Starts the connection times (`advanced.server` + `advanced.schedule`): once
   * this node's ingress listens, so mail an ETRN releases finds it up.
   */
  startConnectionTimes(): void {
    if (this.dequeue && this.vsFor) this.dequeue.start(this.vsFor);
  }

  /**
   * Finishes deliveries in flight and leaves the rest queued for other nodes.
   * Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        await this.dequeue?.close();
        await Promise.all(this.workers.map((w) => w.close().catch(() => undefined)));
        this.outbound.close();
      })();
    }
    return this.closing;
  }
}
