import type { Worker } from 'bullmq';

/** What the watchdog sees of one worker at one check. */
export interface WorkerObservation {
  now: number;
  /** The worker's fetch loop runs (BullMQ `isRunning()`). */
  running: boolean;
  /** Jobs its queue holds ready to run (waiting and prioritized), or undefined when Redis did not answer. */
  ready: number | undefined;
  /** Jobs this worker has taken and not finished. */
  inFlight: number;
  concurrency: number;
  /** When it last took a job or found its queue empty (ms). */
  lastFetchAt: number;
}

/**
 * Whether a worker has stopped fetching and must be replaced: its fetch loop
 * ended, or jobs are ready, it has free slots, and it has taken none for
 * `stuckAfterMs`. With Redis not answering nothing can be told: never restart then.
 */
export function workerStopped(o: WorkerObservation, stuckAfterMs: number): string | undefined {
  if (!o.running) return 'its fetch loop ended';
  if (o.ready === undefined || o.ready === 0 || o.inFlight >= o.concurrency) return undefined;
  const idle = o.now - o.lastFetchAt;
  return idle >= stuckAfterMs
    ? `${o.ready} jobs ready and ${o.concurrency - o.inFlight} free slots, none taken for ${Math.round(idle / 1000)} s`
    : undefined;
}

/** Runs one job's processing, counted as in flight on the worker it belongs to. */
export type TrackJob = <T>(process: () => Promise<T>) => Promise<T>;

export interface WorkerWatchdogOptions<W extends Worker> {
  /**
   * Creates the worker (again: BullMQ cannot restart a worker whose connection
   * setup failed); its processor runs each job through `track`.
   */
  create: (track: TrackJob) => W;
  concurrency: number;
  /** Jobs ready in the worker's queue; rejects when Redis does not answer. */
  readyJobs: () => Promise<number>;
  /** Told before a worker is replaced. */
  onRestart: (e: { queue: string; reason: string }) => void;
  /** Check period (default 5 s). */
  intervalMs?: number;
  /** Ready jobs untaken this long with free slots mean stuck (default 30 s). */
  stuckAfterMs?: number;
  now?: () => number;
}

/**
 * Keeps one BullMQ worker fetching: every `intervalMs` it checks the worker
 * (workerStopped) and, when it stopped, closes it in the background (jobs in
 * flight finish) and creates a new one. BullMQ recovers most connection
 * failures itself; this is the net for the rest (a worker whose run() ended,
 * a blocking connection that never resumed).
 */
export class WorkerWatchdog<W extends Worker> {
  private current: { readonly worker: W; readonly inFlight: number };
  private lastFetchAt: number;
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private closed = false;
  private readonly retired: Promise<void>[] = [];
  private readonly now: () => number;

  constructor(private readonly o: WorkerWatchdogOptions<W>) {
    this.now = o.now ?? Date.now;
    this.lastFetchAt = this.now();
    this.current = this.start();
    this.timer = setInterval(() => void this.check(), o.intervalMs ?? 5000);
    this.timer.unref();
  }

  /** The worker running now. */
  get worker(): W {
    return this.current.worker;
  }

  private start(): { readonly worker: W; readonly inFlight: number } {
    const jobs = { inFlight: 0 };
    const track: TrackJob = async (process) => {
      jobs.inFlight++;
      this.lastFetchAt = this.now();
      try {
        return await process();
      } finally {
        jobs.inFlight--;
      }
    };
    const worker = this.o.create(track);
    // Found its queue empty: it is fetching.
    worker.on('drained', () => {
      if (worker === this.current.worker) this.lastFetchAt = this.now();
    });
    return {
      worker,
      get inFlight() {
        return jobs.inFlight;
      },
    };
  }

  /** One check; exposed for tests. */
  async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      const gen = this.current;
      const ready = await this.o.readyJobs().catch(() => undefined);
      const reason = workerStopped(
        {
          now: this.now(),
          running: gen.worker.isRunning(),
          ready,
          inFlight: gen.inFlight,
          concurrency: this.o.concurrency,
          lastFetchAt: this.lastFetchAt,
        },
        this.o.stuckAfterMs ?? 30_000,
      );
      if (!reason || this.closed || gen !== this.current) return;
      this.o.onRestart({ queue: gen.worker.name, reason });
      this.retired.push(gen.worker.close().catch(() => undefined));
      this.lastFetchAt = this.now();
      this.current = this.start();
    } finally {
      this.checking = false;
    }
  }

  /** Stops checking and closes the worker (and any being retired). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all([this.current.worker.close().catch(() => undefined), ...this.retired]);
  }
}
