import { utcOffset } from './local-time.js';

/** A change of a zone's UTC offset at instant `at` (whole second). */
export interface OffsetChange {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

/** A zone's UTC offsets over a span of time, computed once so scans need no further Intl calls. */
export interface OffsetTimeline {
  offsetAt(t: number): number;
  /** The latest change at or before t (within the span), if any. */
  lastChange(t: number): OffsetChange | undefined;
}

const SAMPLE_MS = 6 * 3_600_000;

/**
 * Samples the zone every 6 hours over [from, to] and bisects each sample interval whose ends
 * differ down to the second. Zones change offset at most a few times a year, never twice within
 * six hours, so this finds every change in the span.
 */
export function offsetTimeline(timeZone: string, from: number, to: number): OffsetTimeline {
  const changes: OffsetChange[] = [];
  let a = from;
  let offA = utcOffset(a, timeZone);
  const first = offA;
  while (a < to) {
    const b = Math.min(a + SAMPLE_MS, to);
    const offB = utcOffset(b, timeZone);
    if (offB !== offA)
      changes.push({ at: bisect(a, b, offA, timeZone), before: offA, after: offB });
    a = b;
    offA = offB;
  }
  return {
    offsetAt(t) {
      let off = first;
      for (const c of changes) if (t >= c.at) off = c.after;
      return off;
    },
    lastChange(t) {
      let last: OffsetChange | undefined;
      for (const c of changes) if (t >= c.at) last = c;
      return last;
    },
  };
}

/** The first whole second in (lo, hi] whose offset differs from `before` (the offset at lo). */
function bisect(lo: number, hi: number, before: number, timeZone: string): number {
  let a = Math.floor(lo / 1000);
  let b = Math.ceil(hi / 1000);
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (utcOffset(mid * 1000, timeZone) === before) a = mid;
    else b = mid;
  }
  return b * 1000;
}
