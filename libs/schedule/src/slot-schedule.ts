import { SLOT_MS, weekSlot } from './local-time.js';
import { offsetTimeline } from './offset-timeline.js';
import type { OffsetTimeline } from './offset-timeline.js';
import { SCAN_LIMIT_MS, scanSlots } from './scan-slots.js';
import type { Schedule } from './schedule.js';
import type { SlotGrid } from './slot-grid.js';

/** Longest spring-forward jump of any zone (Antarctica/Troll moves two hours). */
const MAX_GAP_MS = 3 * 3_600_000;

/** A schedule that can also say when its current window ends (see `closesAt`). */
export interface WindowedSchedule extends Schedule {
  closesAt(t: number): number;
}

/**
 * A schedule defined by open slots of the local week, evaluated on the wall clock of
 * `timeZone`:
 * - fall back: the repeated hour is read twice by the wall clock, so a slot in it is open both times;
 * - spring forward: slots the clock skips are not lost; for as long as the jump lasted after it,
 *   a slot is also open when the clock, had it not jumped, would read an open slot (a window
 *   02:00–02:30 on a day that skips 02:00–03:00 runs 03:00–03:30).
 */
export function slotSchedule(
  spec: string | readonly string[],
  timeZone: string,
  grid: SlotGrid,
): WindowedSchedule {
  const openAt = (t: number, zone: OffsetTimeline): boolean => {
    if (grid[weekSlot(t + zone.offsetAt(t))] === true) return true;
    const c = zone.lastChange(t);
    if (c === undefined || c.after <= c.before || t >= c.at + (c.after - c.before)) return false;
    return grid[weekSlot(t + c.before)] === true;
  };
  const scan = (t: number, want: boolean): number => {
    const zone = offsetTimeline(timeZone, t - MAX_GAP_MS, t + SCAN_LIMIT_MS + SLOT_MS);
    return scanSlots(
      (x) => openAt(x, zone),
      (x) => zone.offsetAt(x),
      t,
      want,
    );
  };
  return {
    spec,
    timeZone,
    isOpen: (t) => openAt(t, offsetTimeline(timeZone, t - MAX_GAP_MS, t)),
    nextOpen: (t) => scan(t, true),
    closesAt: (t) => scan(t, false),
  };
}
