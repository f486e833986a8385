import { isValidTimeZone } from './local-time.js';
import { parseEveryHours } from './parse-every-hours.js';
import { parseWeeklyWindow } from './parse-weekly-window.js';
import type { Schedule, ScheduleParse } from './schedule.js';
import { emptyGrid } from './slot-grid.js';
import { slotSchedule } from './slot-schedule.js';

const ALWAYS = (timeZone: string): Schedule => ({
  spec: 'always',
  timeZone,
  isOpen: () => true,
  nextOpen: (t) => t,
});
const NEVER = (timeZone: string): Schedule => ({
  spec: 'never',
  timeZone,
  isOpen: () => false,
  nextOpen: () => Number.POSITIVE_INFINITY,
});

const EXPECTED =
  'expected always, never, "every N hours" (e.g. "every 2h"), or weekly windows like "Mon-Fri 18:00-23:45"';

/**
 * Parses a delivery schedule spec, evaluated in the IANA zone `timeZone`:
 * - `always`, `never`;
 * - `every Nh` / `every N hours` (N = 1–24): open 00:00–00:15 local and every N hours after;
 * - one weekly window or a list of them: `Mon-Fri 18:00-23:45`, `Fri-Mon 22:00-06:00`,
 *   `Mon,Wed,Fri 09:00-10:00`, `Sat 00:00-24:00` (15-minute resolution).
 * On failure `reason` says which part is wrong and what is expected.
 */
export function parseSchedule(spec: string | readonly string[], timeZone: string): ScheduleParse {
  if (!isValidTimeZone(timeZone)) {
    return {
      ok: false,
      reason: `unknown time zone "${timeZone}": expected an IANA name such as UTC or Europe/Berlin`,
    };
  }
  if (typeof spec === 'string') return parseOne(spec, timeZone);
  if (spec.length === 0) return { ok: false, reason: `an empty list of windows: ${EXPECTED}` };
  const grid = emptyGrid();
  const normalized: string[] = [];
  for (const [i, item] of spec.entries()) {
    const keyword = item.trim().toLowerCase();
    if (keyword === 'always' || keyword === 'never' || /^every\b/.test(keyword)) {
      return {
        ok: false,
        reason: `[${i}] "${item}": ${keyword.split(/\s/)[0] ?? keyword} stands alone, not in a list of weekly windows`,
      };
    }
    const w = parseWeeklyWindow(item);
    if (!w.ok) return { ok: false, reason: `[${i}] "${item}": ${w.reason}` };
    for (const s of w.slots) grid[s] = true;
    normalized.push(w.normalized);
  }
  return { ok: true, schedule: slotSchedule(normalized, timeZone, grid) };
}

function parseOne(spec: string, timeZone: string): ScheduleParse {
  const keyword = spec.trim().toLowerCase();
  if (keyword === 'always') return { ok: true, schedule: ALWAYS(timeZone) };
  if (keyword === 'never') return { ok: true, schedule: NEVER(timeZone) };
  const every = parseEveryHours(spec);
  if (every) {
    if (!every.ok) return every;
    const grid = emptyGrid();
    for (const s of every.slots) grid[s] = true;
    return { ok: true, schedule: slotSchedule(every.normalized, timeZone, grid) };
  }
  if (!/\d:\d/.test(spec)) return { ok: false, reason: `"${spec}" is not a schedule: ${EXPECTED}` };
  const w = parseWeeklyWindow(spec);
  if (!w.ok) return { ok: false, reason: `"${spec}": ${w.reason}` };
  const grid = emptyGrid();
  for (const s of w.slots) grid[s] = true;
  return { ok: true, schedule: slotSchedule(w.normalized, timeZone, grid) };
}
