/** A parsed delivery schedule in one time zone. Time is always a parameter (ms since epoch). */
export interface Schedule {
  /** The spec it was parsed from, normalised. */
  readonly spec: string | readonly string[];
  readonly timeZone: string;
  /** True when delivery may run at instant `t`. */
  isOpen(t: number): boolean;
  /** The first instant >= t at which the schedule is open; Infinity for `never`. */
  nextOpen(t: number): number;
}

export type ScheduleParse = { ok: true; schedule: Schedule } | { ok: false; reason: string };
