/** Rollover periods, as IIS named them; `size` rolls at `maxSizeMB`. */
export type RolloverPeriod = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'unlimited' | 'size';

interface CalendarParts {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
  hour: number; // 0-23
  /** Day of week of the 1st of the month, 0 = Sunday. */
  firstWeekday: number;
}

function parts(time: number, localTime: boolean): CalendarParts {
  const d = new Date(time);
  if (localTime) {
    const first = new Date(d.getFullYear(), d.getMonth(), 1);
    return {
      year: d.getFullYear(),
      month: d.getMonth() + 1,
      day: d.getDate(),
      hour: d.getHours(),
      firstWeekday: first.getDay(),
    };
  }
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    firstWeekday: first.getUTCDay(),
  };
}

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * Week of the month as IIS counted it: week 1 starts on the 1st, every later week on a
 * Sunday. A month whose 1st is a Saturday has its week 2 start on the 2nd.
 */
export function weekOfMonth(day: number, firstWeekday: number): number {
  return Math.floor((day - 1 + firstWeekday) / 7) + 1;
}

/**
 * The file a line written at `time` goes to: `exyymmddhh.log` (hourly), `exyymmdd.log`
 * (daily), `exyymmww.log` (weekly, ww = week of month), `exyymm.log` (monthly),
 * `extend<n>.log` (unlimited: always 1; size: the current n). Named by UTC unless
 * `localTime`.
 */
export function logFileName(
  period: RolloverPeriod,
  time: number,
  localTime: boolean,
  sizeIndex = 1,
): string {
  if (period === 'unlimited') return 'extend1.log';
  if (period === 'size') return `extend${sizeIndex}.log`;
  const p = parts(time, localTime);
  const yymm = two(p.year % 100) + two(p.month);
  switch (period) {
    case 'hourly':
      return `ex${yymm}${two(p.day)}${two(p.hour)}.log`;
    case 'daily':
      return `ex${yymm}${two(p.day)}.log`;
    case 'weekly':
      return `ex${yymm}${two(weekOfMonth(p.day, p.firstWeekday))}.log`;
    case 'monthly':
      return `ex${yymm}.log`;
  }
}

/** The `n` of an `extend<n>.log` file name, or undefined. */
export function extendIndex(fileName: string): number | undefined {
  const m = /^extend(\d+)\.log$/i.exec(fileName);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
