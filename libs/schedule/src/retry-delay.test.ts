import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelay } from './retry-delay.js';

const MIN = 60_000;
const DEFAULTS = [15 * MIN, 30 * MIN, 60 * MIN, 240 * MIN];

describe('retryDelay', () => {
  const cases: readonly { name: string; attempt: number; delay: number }[] = [
    { name: 'waits the first interval before the first retry', attempt: 0, delay: 15 * MIN },
    { name: 'waits the second interval before the second retry', attempt: 1, delay: 30 * MIN },
    { name: 'waits the last interval at its own position', attempt: 3, delay: 240 * MIN },
    { name: 'repeats the last interval after the list runs out', attempt: 4, delay: 240 * MIN },
    {
      name: 'still repeats the last interval far down the series',
      attempt: 1000,
      delay: 240 * MIN,
    },
  ];
  for (const c of cases) test(c.name, () => assert.equal(retryDelay(DEFAULTS, c.attempt), c.delay));

  test('refuses an empty list, a negative attempt and a non-positive interval', () => {
    assert.throws(() => retryDelay([], 0), RangeError);
    assert.throws(() => retryDelay(DEFAULTS, -1), RangeError);
    assert.throws(() => retryDelay(DEFAULTS, 1.5), RangeError);
    assert.throws(() => retryDelay([0], 0), RangeError);
  });
});
