import { utcOffset } from './local-time.js';
import { scanSlots } from './scan-slots.js';
import type { Schedule } from './schedule.js';

/**
 * When the window open at `t` closes: the first instant >= t at which `schedule` is closed
 * (t itself when it is closed at t; Infinity for `always` or a window that never closes).
 * A bridgehead uses it to stop starting deliveries when an `every 2h` window ends.
 */
export function closesAt(schedule: Schedule, t: number): number {
  if (schedule.spec === 'always') return Number.POSITIVE_INFINITY;
  if (hasClosesAt(schedule)) return schedule.closesAt(t);
  return scanSlots(
    (x) => schedule.isOpen(x),
    (x) => utcOffset(x, schedule.timeZone),
    t,
    false,
  );
}

function hasClosesAt(s: Schedule): s is Schedule & { closesAt(t: number): number } {
  return typeof (s as { closesAt?: unknown }).closesAt === 'function';
}
