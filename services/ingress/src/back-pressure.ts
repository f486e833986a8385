import type { MailQueue } from '@mailbus/queue';

/** Ingress refuses new mail (452 4.3.1) when Redis used_memory passes this fraction of maxmemory. */
export const MEMORY_HIGH_WATER = 0.9;
/** Ingress refuses recipients for a connector (452 4.3.1) whose waiting jobs pass this count. */
export const MAX_WAITING_PER_CONNECTOR = 100_000;
/** How often the sampler reads Redis: once a second, never per message. */
export const SAMPLE_INTERVAL_MS = 1000;

export interface BackPressureLimits {
  memoryHighWater: number;
  maxWaitingPerConnector: number;
  sampleIntervalMs: number;
}

export const DEFAULT_BACK_PRESSURE: BackPressureLimits = {
  memoryHighWater: MEMORY_HIGH_WATER,
  maxWaitingPerConnector: MAX_WAITING_PER_CONNECTOR,
  sampleIntervalMs: SAMPLE_INTERVAL_MS,
};

/**
 * Samples Redis memory and each connector's waiting count in the background
 * and answers, without any Redis round trip, whether ingress must push back.
 * A failed sample (Redis down) clears nothing and sets nothing: the writes
 * themselves then fail fast with 451 4.3.0.
 */
export class BackPressure {
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private memoryFull = false;
  private readonly fullConnectors = new Set<string>();
  readonly limits: BackPressureLimits;

  constructor(
    private readonly queue: MailQueue,
    limits: Partial<BackPressureLimits> = {},
  ) {
    this.limits = { ...DEFAULT_BACK_PRESSURE, ...limits };
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.limits.sampleIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Redis memory is past the high-water mark. */
  get memoryPressure(): boolean {
    return this.memoryFull;
  }

  /** The connector's queue is past its waiting limit. */
  connectorFull(connector: string): boolean {
    return this.fullConnectors.has(connector);
  }

  /** One sample; exposed for tests. Overlapping calls are skipped. */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const info = await this.queue.redis.info('memory');
      const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? '0');
      const max = Number(/maxmemory:(\d+)/.exec(info)?.[1] ?? '0');
      this.memoryFull = max > 0 && used >= max * this.limits.memoryHighWater;
      for (const connector of this.queue.connectorNames()) {
        let waiting = 0;
        for (const q of this.queue.queues.all(connector)) {
          const c = await q.getJobCounts('waiting', 'prioritized');
          waiting += (c.waiting ?? 0) + (c.prioritized ?? 0);
        }
        if (waiting > this.limits.maxWaitingPerConnector) this.fullConnectors.add(connector);
        else this.fullConnectors.delete(connector);
      }
    } catch {
      // Redis unreachable: keep the last verdict; submits fail fast on their own.
    } finally {
      this.sampling = false;
    }
  }
}
