import { SLOTS_PER_DAY } from './local-time.js';

export type EveryHoursParse =
  | { ok: true; hours: number; normalized: string; slots: readonly number[] }
  | { ok: false; reason: string }
  | undefined;

/**
 * Parses `every Nh` / `every N hours` (Exchange's "Run every N hours"): open 15 minutes at local
 * midnight and every N hours after it (00:00–00:15, 02:00–02:15, … for every 2h), every day.
 * Returns undefined when the text does not start with `every`.
 */
export function parseEveryHours(text: string): EveryHoursParse {
  const t = text.trim().toLowerCase();
  if (!/^every\b/.test(t)) return undefined;
  const m = /^every\s+(\d+)\s*(?:h|hr|hrs|hour|hours)$/.exec(t);
  if (!m)
    return {
      ok: false,
      reason: `"${text}" is not a repeat: expected "every N hours" or "every Nh" with N from 1 to 24, e.g. "every 2h"`,
    };
  const hours = Number(m[1]);
  if (!Number.isInteger(hours) || hours < 1 || hours > 24) {
    return { ok: false, reason: `"${text}": N must be a whole number of hours from 1 to 24` };
  }
  const slots: number[] = [];
  for (let day = 0; day < 7; day++) {
    for (let h = 0; h < 24; h += hours) slots.push(day * SLOTS_PER_DAY + h * 4);
  }
  return { ok: true, hours, normalized: `every ${hours}h`, slots };
}
