import { SLOT_MS, weekSlot } from './local-time.js';
import { offsetTimeline } from './offset-timeline.js';
import type { OffsetChange, OffsetTimeline } from './offset-timeline.js';
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
 * - fall back: the wall clock reads the repeated hour twice, so a slot in it is open both times;
 * - spring forward: open slots the clock skips are not lost. Those of a window that ends inside
 *   the skipped hour run from the first instant after the jump, for as long as they would have
 *   (`02:00-02:15` on a day that skips 02:00–03:00 runs 03:00–03:15); a window that goes on past
 *   the skipped hour just opens when the clock lands in it (`01:30-03:30` runs 01:30–02:00 and
 *   03:00–03:30, with no break in real time).
 */
export function slotSchedule(
  spec: string | readonly string[],
  timeZone: string,
  grid: SlotGrid,
): WindowedSchedule {
  const openAt = (t: number, zone: OffsetTimeline): boolean => {
    if (grid[weekSlot(t + zone.offsetAt(t))] === true) return true;
    const c = zone.lastChange(t);
    if (c === undefined || c.after <= c.before) return false;
    return t < c.at + skippedOpenTime(grid, c);
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

/**
 * How long to stay open right after a spring-forward jump: the open slots inside the skipped
 * wall-clock span, leaving out a trailing run that continues past it (the wall clock opens that
 * window itself when it lands in it).
 */
function skippedOpenTime(grid: SlotGrid, jump: OffsetChange): number {
  const gapStart = jump.at + jump.before;
  const slots = Math.round((jump.after - jump.before) / SLOT_MS);
  const open: boolean[] = [];
  for (let i = 0; i < slots; i++) open.push(grid[weekSlot(gapStart + i * SLOT_MS)] === true);
  if (grid[weekSlot(jump.at + jump.after)] === true) {
    while (open.length > 0 && open[open.length - 1] === true) open.pop();
  }
  return open.filter(Boolean).length * SLOT_MS;
}
