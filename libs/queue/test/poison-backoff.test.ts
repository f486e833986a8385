import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DELIVERY_JOB_OPTIONS, POISON_ATTEMPTS, poisonBackoff } from '../src/index.js';

test('a poison job gets 5 tries, 30 s apart at first and doubling: 30 s, 60 s, 120 s, 240 s', () => {
  assert.equal(POISON_ATTEMPTS, 5);
  assert.equal(DELIVERY_JOB_OPTIONS.attempts, 5);
  assert.equal(
    DELIVERY_JOB_OPTIONS.removeOnFail,
    false,
    'parked jobs are never removed on their own',
  );
  const wait = poisonBackoff(30_000);
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => wait(n)),
    [30_000, 60_000, 120_000, 240_000],
  );
});
