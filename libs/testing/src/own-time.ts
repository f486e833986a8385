import { readFileSync } from 'node:fs';

/** The main thread's time waiting in the run queue for a CPU, in ms; undefined where unknown. */
function runQueueWaitMs(pid: number): number | undefined {
  try {
    // "<ns on a CPU> <ns waiting in the run queue> <time slices>" (Linux, CONFIG_SCHED_INFO).
    const wait = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(wait) ? wait / 1e6 : undefined;
  } catch {
    return undefined; // not Linux, or the process has gone
  }
}

/**
 * A clock for a child process that runs only while the child is not waiting
 * for a CPU: wall time since it started, minus the time its main thread sat in
 * the run queue (Linux /proc/<pid>/schedstat; elsewhere plain wall time).
 *
 * A test bound on wall time measures the machine as much as mailbus: on this
 * 2-core machine at load 38, `mailbus --version` took 19–30 s of wall time of
 * which 17–27 s were spent waiting for a CPU, and about 2 s were its own. The
 * bounds of the process-boundary tests (a start that prints its banner, an
 * unreachable Redis reported within 15 s) are on this clock: they still catch
 * a hang or a product deadline that is too long, whatever the load.
 */
export class OwnClock {
  private readonly startedAt = Date.now();
  private readonly waitAtStart: number;
  private waited = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.waitAtStart = runQueueWaitMs(pid) ?? 0;
    // Sampled, so the last value is known once the process has exited.
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
  }

  private sample(): void {
    const w = runQueueWaitMs(this.pid);
    if (w !== undefined) this.waited = Math.max(this.waited, w - this.waitAtStart);
  }

  /** Milliseconds of the child's own time since it started. */
  readonly now = (): number => {
    this.sample();
    return Date.now() - this.startedAt - this.waited;
  };

  /** Milliseconds of wall time since it started, for messages. */
  wallMs(): number {
    return Date.now() - this.startedAt;
  }

  /** Stops sampling (the value of `now()` is then frozen at the last sample's wait). */
  stop(): void {
    clearInterval(this.timer);
  }
}
