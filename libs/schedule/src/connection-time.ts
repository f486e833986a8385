import { SLOT_MS, mod, utcOffset } from './local-time.js';
import { SCAN_LIMIT_MS, scanSlots } from './scan-slots.js';
import type { Schedule } from './schedule.js';

/** One connection time: `due` names it (the same instant on every node), `at` is when to act. */
export interface ConnectionTime {
  /** The instant the window opened (or opens): the key of the cluster-wide lease. */
  due: number;
  /** When to connect: `due`, or now for a window already open. */
  at: number;
}

/**
 * The first instant of the window open at `t`: scanning back over 15-minute
 * boundaries (schedules and zone offsets change only on those) until the
 * schedule was closed just before. Undefined when it was open all along the
 * scan (`always`).
 */
function windowOpening(schedule: Schedule, t: number): number | undefined {
  let b = t - mod(t, SLOT_MS);
  for (const limit = t - SCAN_LIMIT_MS; b > limit; b -= SLOT_MS) {
    if (!schedule.isOpen(b - 1)) return b;
  }
  return undefined;
}

/**
 * The next connection time of a schedule used as a connector's connection
 * time ("Request ETRN/TURN from a different server … specify a connection
 * time", seed 002): each instant a window opens; a schedule open all the
 * time (`always`) every 15 minutes on the clock; `never` none (undefined).
 * A window open at `now` whose opening is after `last` (the last due time
 * acted on, none at start) is due at once: mailbus connects once at start
 * when a window is open then, and once per window after that. Every node
 * computes the same `due` for a window, whenever it started.
 */
export function nextConnectionTime(
  schedule: Schedule,
  now: number,
  last?: number,
): ConnectionTime | undefined {
  if (schedule.isOpen(now)) {
    const opening = windowOpening(schedule, now);
    const due = opening ?? now - mod(now, SLOT_MS);
    if (last === undefined || due > last) return { due, at: now };
    if (opening === undefined) return { due: due + SLOT_MS, at: due + SLOT_MS };
    const closes = scanSlots(
      (x) => schedule.isOpen(x),
      (x) => utcOffset(x, schedule.timeZone),
      now,
      false,
    );
    if (!Number.isFinite(closes)) return undefined;
    const next = schedule.nextOpen(closes);
    return Number.isFinite(next) ? { due: next, at: next } : undefined;
  }
  const next = schedule.nextOpen(now);
  return Number.isFinite(next) ? { due: next, at: next } : undefined;
}
