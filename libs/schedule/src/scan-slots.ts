import { SLOT_MS, mod } from './local-time.js';

/** How far ahead a scan looks: a week of slots, plus a day for DST shifts. */
export const SCAN_LIMIT_MS = 8 * 86_400_000;

/**
 * The first instant >= t at which `isOpen` equals `want`, or Infinity when that does not
 * happen within {@link SCAN_LIMIT_MS}. Schedules change state only on 15-minute boundaries of
 * local time (and zone offsets move in 15-minute steps), so testing those boundaries is exact.
 */
export function scanSlots(
  isOpen: (t: number) => boolean,
  offsetAt: (t: number) => number,
  t: number,
  want: boolean,
): number {
  if (isOpen(t) === want) return t;
  let x = t;
  while (x - t <= SCAN_LIMIT_MS) {
    x = nextBoundary(x, offsetAt(x));
    if (isOpen(x) === want) return x;
  }
  return Number.POSITIVE_INFINITY;
}

/** The next 15-minute boundary of local time after t (also of UTC, should the two differ). */
function nextBoundary(t: number, offset: number): number {
  const utc = t + SLOT_MS - mod(t, SLOT_MS);
  if (mod(offset, SLOT_MS) === 0) return utc;
  return Math.min(utc, t + SLOT_MS - mod(t + offset, SLOT_MS));
}
