import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimes } from './iso-times.js';

test('times become ISO 8601 with the milliseconds kept beside them; other values untouched', () => {
  assert.deepEqual(
    isoTimes({
      messages: [
        { receivedAt: 0, nextAttemptAt: 1_764_565_200_000, size: 12, lastAttemptAt: null },
      ],
      link: { state: 'down', since: 1_764_565_200_000 },
      events: [{ type: 'received', at: 1_764_565_200_123 }],
    }),
    {
      messages: [
        {
          receivedAt: 0,
          nextAttemptAt: '2025-12-01T05:00:00.000Z',
          nextAttemptAtMs: 1_764_565_200_000,
          size: 12,
          lastAttemptAt: null,
        },
      ],
      link: { state: 'down', since: '2025-12-01T05:00:00.000Z', sinceMs: 1_764_565_200_000 },
      events: [{ type: 'received', at: '2025-12-01T05:00:00.123Z', atMs: 1_764_565_200_123 }],
    },
  );
});
