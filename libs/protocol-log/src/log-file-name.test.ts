import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { extendIndex, logFileName, weekOfMonth } from './log-file-name.js';

const at = (iso: string): number => Date.parse(iso);

describe('logFileName', () => {
  const cases: Array<[string, Parameters<typeof logFileName>, string]> = [
    ['hourly', ['hourly', at('2026-03-07T09:59:59Z'), false], 'ex26030709.log'],
    ['hourly at midnight', ['hourly', at('2026-03-08T00:00:00Z'), false], 'ex26030800.log'],
    ['daily', ['daily', at('2026-03-07T23:59:59Z'), false], 'ex260307.log'],
    ['monthly', ['monthly', at('2026-12-31T23:00:00Z'), false], 'ex2612.log'],
    ['weekly on the 1st', ['weekly', at('2026-08-01T12:00:00Z'), false], 'ex260801.log'],
    ['weekly on the first Sunday', ['weekly', at('2026-08-02T00:00:00Z'), false], 'ex260802.log'],
    ['weekly on a Saturday', ['weekly', at('2026-08-08T23:59:59Z'), false], 'ex260802.log'],
    ['weekly in a sixth week', ['weekly', at('2026-08-31T10:00:00Z'), false], 'ex260806.log'],
    ['year 2100 keeps two digits', ['daily', at('2100-01-02T00:00:00Z'), false], 'ex000102.log'],
    ['unlimited', ['unlimited', at('2026-03-07T00:00:00Z'), false], 'extend1.log'],
    ['size', ['size', at('2026-03-07T00:00:00Z'), false, 7], 'extend7.log'],
  ];
  for (const [label, args, expected] of cases) {
    test(`names a ${label} file ${expected}`, () => {
      assert.equal(logFileName(...args), expected);
    });
  }
});

describe('weekOfMonth', () => {
  test('counts weeks from the 1st, each later week starting on Sunday (August 2026, 1st a Saturday)', () => {
    // Aug 2026: Sat 1 | Sun 2 - Sat 8 | 9-15 | 16-22 | 23-29 | 30-31
    const firstWeekday = 6;
    const weeks = Array.from({ length: 31 }, (_, i) => weekOfMonth(i + 1, firstWeekday));
    assert.deepEqual(
      weeks,
      [1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 6, 6],
    );
  });

  test('a month starting on Sunday has full weeks (November 2026)', () => {
    const weeks = Array.from({ length: 30 }, (_, i) => weekOfMonth(i + 1, 0));
    assert.deepEqual(
      weeks,
      [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5],
    );
  });
});

describe('extendIndex', () => {
  test('reads the n of extend<n>.log and nothing else', () => {
    assert.equal(extendIndex('extend12.log'), 12);
    assert.equal(extendIndex('extend1.log'), 1);
    assert.equal(extendIndex('ex260307.log'), undefined);
    assert.equal(extendIndex('extend.log'), undefined);
  });
});
