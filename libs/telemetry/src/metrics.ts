import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One connector's queue, as the service's collector reads it from Redis at scrape time. */
export interface QueueSample {
  connector: string;
  /** Jobs per state (`waiting`, `delayed`, `active`, `failed`, `frozen`, …). */
  depth: Readonly<Record<string, number>>;
  /** Age of the oldest job still to deliver, seconds; omitted when the queue is empty. */
  oldestAgeSeconds?: number;
  /** Link state; omitted to leave `mailbus_connector_up` to `connectorUp.set`. */
  up?: boolean;
}

/** Reads every connector's queue; called at most once per scrape (cached for one second). */
export type QueueCollector = () => Promise<readonly QueueSample[]> | readonly QueueSample[];

export interface MetricsOptions {
  /** Labels on every series, e.g. `{ role: 'bridgehead', node: 'pod-1' }`. */
  defaultLabels?: Record<string, string>;
  /** Also export the default process and Node.js metrics; default true. */
  processMetrics?: boolean;
  /** Reads queue depth and oldest age at scrape time; see `setQueueCollector`. */
  queueCollector?: QueueCollector;
}

/**
 * Delivery latency buckets, seconds: from a 10 ms smart-host hand-off to a message that
 * waited a day in retry.
 */
export const DELIVERY_LATENCY_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400,
  43_200, 86_400,
];

const SAMPLE_TTL_MS = 1000;

/**
 * Every mailbus Prometheus metric, in its own registry (never prom-client's global one), so
 * tests and several roles in one process do not collide. Serve `render()` with `contentType`.
 */
export class Metrics {
  readonly registry: Registry;
  readonly messagesAccepted: Counter<'virtual_server'>;
  readonly messagesRejected: Counter<'code' | 'enhanced'>;
  readonly smtpReplies: Counter<'virtual_server' | 'code' | 'enhanced'>;
  readonly messagesDelivered: Counter<'connector'>;
  readonly messagesDeferred: Counter<'connector'>;
  readonly messagesBounced: Counter<'connector'>;
  readonly failovers: Counter<'from' | 'to'>;
  readonly etrnRequests: Counter<'connector' | 'result'>;
  readonly turnRequests: Counter<'connector' | 'result'>;
  readonly jobsParked: Counter<'connector'>;
  readonly queueDepth: Gauge<'connector' | 'state'>;
  readonly queueOldestAge: Gauge<'connector'>;
  readonly connectorUp: Gauge<'connector'>;
  readonly smtpSessionsOpen: Gauge<'virtual_server'>;
  readonly deliveryLatency: Histogram<'connector'>;
  readonly collectErrors: Counter;
  readonly redisConnectionsRevived: Counter<'connection'>;
  readonly workerRestarts: Counter<'queue'>;

  private queueCollector: QueueCollector | undefined;
  private sample: { at: number; samples: Promise<readonly QueueSample[] | undefined> } | undefined;

  constructor(options: MetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
    this.queueCollector = options.queueCollector;
    const registers = [registry];
    // Captured by the collect callbacks, whose `this` is the metric.
    const queueSamples = (): Promise<readonly QueueSample[] | undefined> => this.queueSamples();

    this.messagesAccepted = new Counter({
      name: 'mailbus_messages_accepted_total',
      help: 'Messages answered 250 after DATA (durably queued), per virtual server.',
      labelNames: ['virtual_server'] as const,
      registers,
    });
    this.messagesRejected = new Counter({
      name: 'mailbus_messages_rejected_total',
      help: 'Commands or messages refused with a 4xx/5xx reply, per reply code and enhanced code.',
      labelNames: ['code', 'enhanced'] as const,
      registers,
    });
    this.smtpReplies = new Counter({
      name: 'mailbus_smtp_replies_total',
      help: 'Every reply the ingress sent, per virtual server, reply code and enhanced code ("" when the reply has none).',
      labelNames: ['virtual_server', 'code', 'enhanced'] as const,
      registers,
    });
    this.messagesDelivered = new Counter({
      name: 'mailbus_messages_delivered_total',
      help: 'Recipients the remote server accepted (250), per connector.',
      labelNames: ['connector'] as const,
      registers,
    });
    this.messagesDeferred = new Counter({
      name: 'mailbus_messages_deferred_total',
      help: 'Recipients that failed transiently and wait for a retry, per connector.',
      labelNames: ['connector'] as const,
      registers,
    });
    this.messagesBounced = new Counter({
      name: 'mailbus_messages_bounced_total',
      help: 'Recipients that failed permanently or expired (a DSN is sent), per connector.',
      labelNames: ['connector'] as const,
      registers,
    });
    this.failovers = new Counter({
      name: 'mailbus_failovers_total',
      help: 'Recipients moved to the next-cost connector after a transient failure.',
      labelNames: ['from', 'to'] as const,
      registers,
    });
    this.etrnRequests = new Counter({
      name: 'mailbus_etrn_requests_total',
      help: 'ETRN commands sent for a connector (advanced.request: etrn), by result: ok (250-253) or failed.',
      labelNames: ['connector', 'result'] as const,
      registers,
    });
    this.turnRequests = new Counter({
      name: 'mailbus_turn_requests_total',
      help: 'TURN or ATRN commands sent for a connector (advanced.request: turn), by result: reversed (250, mail received on the connection) or failed.',
      labelNames: ['connector', 'result'] as const,
      registers,
    });
    this.jobsParked = new Counter({
      name: 'mailbus_jobs_parked_total',
      help: 'Delivery jobs parked in the failed state after unexpected errors (or a lost body), per connector.',
      labelNames: ['connector'] as const,
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'mailbus_queue_depth',
      help: 'Jobs in a connector queue, per state (waiting, delayed, active, failed, …).',
      labelNames: ['connector', 'state'] as const,
      registers,
      async collect() {
        const samples = await queueSamples();
        if (!samples) return;
        this.reset();
        for (const s of samples) {
          for (const [state, n] of Object.entries(s.depth)) {
            this.set({ connector: s.connector, state }, n);
          }
        }
      },
    });
    this.queueOldestAge = new Gauge({
      name: 'mailbus_queue_oldest_age_seconds',
      help: 'Age of the oldest job still to deliver in a connector queue, seconds.',
      labelNames: ['connector'] as const,
      registers,
      async collect() {
        const samples = await queueSamples();
        if (!samples) return;
        this.reset();
        for (const s of samples) {
          this.set({ connector: s.connector }, s.oldestAgeSeconds ?? 0);
        }
      },
    });
    this.connectorUp = new Gauge({
      name: 'mailbus_connector_up',
      help: 'Link state of a connector: 1 up, 0 marked down after repeated connection failures.',
      labelNames: ['connector'] as const,
      registers,
      async collect() {
        const samples = await queueSamples();
        for (const s of samples ?? []) {
          if (s.up !== undefined) this.set({ connector: s.connector }, s.up ? 1 : 0);
        }
      },
    });
    this.smtpSessionsOpen = new Gauge({
      name: 'mailbus_smtp_sessions_open',
      help: 'Inbound SMTP sessions open now, per virtual server.',
      labelNames: ['virtual_server'] as const,
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'mailbus_delivery_latency_seconds',
      help: 'Time from 250 at ingress to the remote 250, seconds, per connector.',
      labelNames: ['connector'] as const,
      buckets: [...DELIVERY_LATENCY_BUCKETS],
      registers,
    });
    this.collectErrors = new Counter({
      name: 'mailbus_metrics_collect_errors_total',
      help: 'Scrapes whose queue collector failed (queue gauges are then left out).',
      registers,
    });
    this.redisConnectionsRevived = new Counter({
      name: 'mailbus_redis_connections_revived_total',
      help: 'Redis connections that ended without being closed (e.g. after a Sentinel failover) and were connected again, per connection (producer, worker).',
      labelNames: ['connection'] as const,
      registers,
    });
    this.workerRestarts = new Counter({
      name: 'mailbus_worker_restarts_total',
      help: 'Queue workers the watchdog found not fetching jobs and restarted, per queue.',
      labelNames: ['queue'] as const,
      registers,
    });
  }

  /** The Content-Type to serve `render()` with. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Sets (or replaces) the callback that reads queue depth at scrape time. */
  setQueueCollector(collector: QueueCollector | undefined): void {
    this.queueCollector = collector;
    this.sample = undefined;
  }

  /** Seconds between two epoch-ms instants, for `deliveryLatency.observe`. */
  static seconds(fromMs: number, toMs: number): number {
    return Math.max(0, toMs - fromMs) / 1000;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  private queueSamples(): Promise<readonly QueueSample[] | undefined> {
    const collector = this.queueCollector;
    if (!collector) return Promise.resolve(undefined);
    const now = Date.now();
    if (this.sample && now - this.sample.at < SAMPLE_TTL_MS) return this.sample.samples;
    const samples = (async () => {
      try {
        return await collector();
      } catch {
        this.collectErrors.inc();
        return [];
      }
    })();
    this.sample = { at: now, samples };
    return samples;
  }
}
