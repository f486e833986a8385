/**
 * The wait before retry number `attempt` (0-based): attempt 0 waits `intervals[0]`, and the
 * last interval repeats (the IIS/Exchange 15m, 30m, 60m, then 240m for ever).
 */
export function retryDelay(intervals: readonly number[], attempt: number): number {
  if (intervals.length === 0) throw new RangeError('retryDelay: intervals must not be empty');
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError(`retryDelay: attempt ${attempt} is not a whole number >= 0`);
  const delay = intervals[Math.min(attempt, intervals.length - 1)];
  if (delay === undefined || !(delay > 0))
    throw new RangeError(`retryDelay: interval ${String(delay)} is not a positive duration`);
  return delay;
}
