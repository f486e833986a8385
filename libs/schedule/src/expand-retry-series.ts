import { retryDelay } from './retry-delay.js';

export interface RetrySeriesInput {
  /** Retry intervals in ms; the last one repeats. */
  readonly intervals: readonly number[];
  /** ms after `start` at which the message expires (DSN 5.4.7). */
  readonly expireAfter: number;
  /** ms since epoch of the first (failed) attempt; usually the arrival time. */
  readonly start: number;
}

/**
 * The absolute times (ms) of every retry after the attempt at `start`, strictly before the
 * expiry at `start + expireAfter`; a retry that would fall at or after expiry is not made.
 */
export function expandRetrySeries({ intervals, expireAfter, start }: RetrySeriesInput): number[] {
  const expiresAt = start + expireAfter;
  const times: number[] = [];
  for (
    let attempt = 0, t = start + retryDelay(intervals, 0);
    t < expiresAt;
    t += retryDelay(intervals, ++attempt)
  ) {
    times.push(t);
  }
  return times;
}
