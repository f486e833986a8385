import { SLOTS_PER_DAY, SLOTS_PER_WEEK } from './local-time.js';

/** A weekly window such as `Mon-Fri 18:00-23:45`, as open slot indices of the local week. */
export type WeeklyWindowParse =
  { ok: true; normalized: string; slots: readonly number[] } | { ok: false; reason: string };

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const FULL_NAMES = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
const EXPECTED_DAYS = 'expected Mon, Tue, Wed, Thu, Fri, Sat or Sun';
const EXAMPLE = 'e.g. "Mon-Fri 18:00-23:45", "Sat 00:00-24:00" or "Mon,Wed,Fri 09:00-10:00"';

/**
 * Parses `<days> <HH:MM>-<HH:MM>`. Days are a comma-separated list of days or day ranges
 * (`Fri-Mon` wraps over the weekend). Times are on 15-minute boundaries; `24:00` may end a
 * window. An end before the start runs past midnight into the next day.
 */
export function parseWeeklyWindow(text: string): WeeklyWindowParse {
  const m = /^\s*(.*?)\s*(\d{1,2}:\d{1,2})\s*-\s*(\d{1,2}:\d{1,2})\s*$/.exec(text);
  if (!m) return { ok: false, reason: `expected "<days> HH:MM-HH:MM", ${EXAMPLE}` };
  const [, daysText = '', startText = '', endText = ''] = m;
  if (daysText === '') {
    return {
      ok: false,
      reason: `no days before the times: write e.g. "Mon-Sun ${startText}-${endText}" for every day`,
    };
  }
  const days = parseDays(daysText);
  if (!days.ok) return days;
  const start = parseTime(startText, 'start');
  if (!start.ok) return start;
  const end = parseTime(endText, 'end');
  if (!end.ok) return end;
  if (start.minutes === 1440)
    return { ok: false, reason: 'start 24:00 is not a time a window can start at (00:00–23:45)' };
  if (start.minutes === end.minutes) {
    return {
      ok: false,
      reason: `start and end are both ${startText}: the window would be empty (write 00:00-24:00 for a whole day)`,
    };
  }
  const first = start.minutes / 15;
  const last = end.minutes / 15;
  const length = last > first ? last - first : SLOTS_PER_DAY - first + last;
  const slots: number[] = [];
  for (const day of days.days) {
    for (let i = 0; i < length; i++) slots.push((day * SLOTS_PER_DAY + first + i) % SLOTS_PER_WEEK);
  }
  return {
    ok: true,
    normalized: `${days.normalized} ${hhmm(start.minutes)}-${hhmm(end.minutes)}`,
    slots,
  };
}

type DaysParse =
  { ok: true; days: readonly number[]; normalized: string } | { ok: false; reason: string };

function parseDays(text: string): DaysParse {
  const days = new Set<number>();
  const parts: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '')
      return {
        ok: false,
        reason: `empty day in "${text}": ${EXPECTED_DAYS}, day ranges like Mon-Fri, separated by commas`,
      };
    const range = item.split('-').map((s) => s.trim());
    if (range.length > 2)
      return {
        ok: false,
        reason: `day range "${item}" has more than two ends: write e.g. Mon-Fri`,
      };
    const from = dayIndex(range[0] ?? '');
    if (from === undefined)
      return { ok: false, reason: `unknown day "${range[0] ?? ''}": ${EXPECTED_DAYS}` };
    const to = range.length === 2 ? dayIndex(range[1] ?? '') : from;
    if (to === undefined)
      return { ok: false, reason: `unknown day "${range[1] ?? ''}": ${EXPECTED_DAYS}` };
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
    parts.push(from === to ? `${DAY_NAMES[from]}` : `${DAY_NAMES[from]}-${DAY_NAMES[to]}`);
  }
  return { ok: true, days: [...days].sort((a, b) => a - b), normalized: parts.join(',') };
}

function dayIndex(name: string): number | undefined {
  const lower = name.toLowerCase();
  const i = DAY_NAMES.findIndex((d) => d.toLowerCase() === lower);
  if (i >= 0) return i;
  const j = FULL_NAMES.indexOf(lower as (typeof FULL_NAMES)[number]);
  return j >= 0 ? j : undefined;
}

type TimeParse = { ok: true; minutes: number } | { ok: false; reason: string };

function parseTime(text: string, which: 'start' | 'end'): TimeParse {
  const [h = '', mm = ''] = text.split(':');
  const hours = Number(h);
  const minutes = Number(mm);
  if (mm.length !== 2 || hours > 24 || minutes > 59 || (hours === 24 && minutes !== 0)) {
    return {
      ok: false,
      reason: `${which} ${text} is not a time of day: expected HH:MM from 00:00 to 24:00`,
    };
  }
  if (minutes % 15 !== 0) {
    return {
      ok: false,
      reason: `${which} ${text} is not on a 15-minute boundary: minutes must be 00, 15, 30 or 45`,
    };
  }
  return { ok: true, minutes: hours * 60 + minutes };
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
