import type { Schedule, ScheduleParse } from './schedule.js';

const ALWAYS = (spec: string, timeZone: string): Schedule => ({
  spec,
  timeZone,
  isOpen: () => true,
  nextOpen: (t) => t,
});
const NEVER = (spec: string, timeZone: string): Schedule => ({
  spec,
  timeZone,
  isOpen: () => false,
  nextOpen: () => Number.POSITIVE_INFINITY,
});

/** Parses a schedule spec: `always`, `never`, `every 2h`, or weekly windows. */
export function parseSchedule(spec: string | readonly string[], timeZone: string): ScheduleParse {
  if (spec === 'always') return { ok: true, schedule: ALWAYS(spec, timeZone) };
  if (spec === 'never') return { ok: true, schedule: NEVER(spec, timeZone) };
  return { ok: false, reason: `schedule ${JSON.stringify(spec)} is not supported yet` };
}
