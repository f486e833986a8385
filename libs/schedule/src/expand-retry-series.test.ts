import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expandRetrySeries } from './expand-retry-series.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DEFAULTS = [15 * MIN, 30 * MIN, 60 * MIN, 240 * MIN];
const start = Date.parse('2026-03-28T20:00:00Z');

describe('expandRetrySeries', () => {
  test('expands the IIS/Exchange defaults (15m, 30m, 60m, then 240m) over two days: 14 retries', () => {
    const series = expandRetrySeries({ intervals: DEFAULTS, expireAfter: 48 * HOUR, start });
    const minutesAfterStart = series.map((t) => (t - start) / MIN);
    assert.deepEqual(
      minutesAfterStart,
      [15, 45, 105, 345, 585, 825, 1065, 1305, 1545, 1785, 2025, 2265, 2505, 2745],
    );
    assert.deepEqual(
      series.slice(0, 4).map((t) => new Date(t).toISOString()),
      [
        '2026-03-28T20:15:00.000Z',
        '2026-03-28T20:45:00.000Z',
        '2026-03-28T21:45:00.000Z',
        '2026-03-29T01:45:00.000Z',
      ],
    );
    assert.ok(
      (series.at(-1) ?? 0) + 240 * MIN >= start + 48 * HOUR,
      'the next retry would be past expiry',
    );
  });

  test('makes no retry that falls exactly on the expiry', () => {
    const series = expandRetrySeries({ intervals: [HOUR], expireAfter: 3 * HOUR, start });
    assert.deepEqual(
      series.map((t) => (t - start) / HOUR),
      [1, 2],
    );
  });

  test('makes no retry at all when the first interval is past expiry', () => {
    assert.deepEqual(expandRetrySeries({ intervals: [4 * HOUR], expireAfter: HOUR, start }), []);
  });
});
