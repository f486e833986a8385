import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as schedule from '../src/index.js';

test('the package entry names every public function', () => {
  assert.deepEqual(Object.keys(schedule).sort(), [
    'DeliveryPolicy',
    'nextConnectionTime',
    'parseSchedule',
    'retryDelay',
  ]);
});

test('a config-style schedule parses and drives the policy through the package entry', () => {
  const r = schedule.parseSchedule(['Mon-Fri 18:00-23:45'], 'Europe/Berlin');
  assert.ok(r.ok);
  const t = Date.parse('2026-01-05T16:00:00Z'); // Monday 17:00 in Berlin
  const policy = new schedule.DeliveryPolicy(
    [
      {
        name: 'Night',
        schedule: r.schedule,
        remoteTriggered: false,
        retry: { intervals: [60_000], expireAfter: 86_400_000, delayNotifyAfter: 3_600_000 },
      },
    ],
    { intervals: [60_000], expireAfter: 86_400_000, delayNotifyAfter: 3_600_000 },
  );
  const step = policy.decide({
    message: {
      receivedAt: t,
      size: 1,
      plan: ['Night'],
      planIndex: 0,
      round: 0,
      delayNotified: false,
    },
    event: { kind: 'enqueue' },
    now: t,
  });
  assert.deepEqual(step, {
    kind: 'wait',
    connector: 'Night',
    until: t + 3_600_000,
    reason: 'schedule',
  });
});
