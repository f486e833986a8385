import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as schedule from '../src/index.js';

test('the package entry names every public function', () => {
  assert.deepEqual(Object.keys(schedule).sort(), [
    'closesAt',
    'deliveryDeadlines',
    'expandRetrySeries',
    'parseSchedule',
    'retryDelay',
  ]);
});

test('a config-style schedule parses and answers through the package entry', () => {
  const r = schedule.parseSchedule(['Mon-Fri 18:00-23:45'], 'Europe/Berlin');
  assert.ok(r.ok);
  const t = Date.parse('2026-01-05T17:00:00Z'); // Monday 18:00 in Berlin
  assert.equal(r.schedule.isOpen(t), true);
  assert.equal(schedule.closesAt(r.schedule, t), Date.parse('2026-01-05T22:45:00Z'));
});
