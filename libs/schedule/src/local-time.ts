/** Fifteen minutes: the resolution of weekly windows, as in Exchange's schedule grid. */
export const SLOT_MS = 15 * 60_000;
export const SLOTS_PER_DAY = 96;
export const SLOTS_PER_WEEK = 7 * SLOTS_PER_DAY;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.length === 0) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The zone's offset from UTC at instant `t`, in ms (local wall clock = t + offset). */
export function utcOffset(t: number, timeZone: string): number {
  const whole = t - mod(t, 1000);
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of formatter(timeZone).formatToParts(whole)) {
    const v = Number(p.value);
    switch (p.type) {
      case 'year':
        y = v;
        break;
      case 'month':
        mo = v;
        break;
      case 'day':
        d = v;
        break;
      case 'hour':
        h = v;
        break;
      case 'minute':
        mi = v;
        break;
      case 'second':
        s = v;
        break;
      default:
        break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - whole;
}

/**
 * The slot of the week (0 = Monday 00:00–00:15, 671 = Sunday 23:45–24:00) that a local
 * wall-clock time falls in; `wall` is the local time expressed as ms since the epoch.
 */
export function weekSlot(wall: number): number {
  const weekday = (new Date(wall).getUTCDay() + 6) % 7;
  return weekday * SLOTS_PER_DAY + Math.floor(mod(wall, DAY_MS) / SLOT_MS);
}
