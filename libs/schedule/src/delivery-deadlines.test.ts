import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryDeadlines } from './delivery-deadlines.js';

const HOUR = 3_600_000;
const arrival = Date.parse('2026-10-24T12:00:00Z');

describe('deliveryDeadlines', () => {
  const cases: readonly {
    name: string;
    expireAfter: number;
    delayNotifyAfter?: number;
    expiresAt: string;
    delayNotifyAt: string | undefined;
  }[] = [
    {
      name: 'sends the delay notice after 12h and expires after 2d with the defaults',
      expireAfter: 48 * HOUR,
      delayNotifyAfter: 12 * HOUR,
      expiresAt: '2026-10-26T12:00:00.000Z',
      delayNotifyAt: '2026-10-25T00:00:00.000Z',
    },
    {
      name: 'sends no delay notice when none is configured',
      expireAfter: 48 * HOUR,
      expiresAt: '2026-10-26T12:00:00.000Z',
      delayNotifyAt: undefined,
    },
    {
      name: 'sends no delay notice when it would not come before expiry',
      expireAfter: 6 * HOUR,
      delayNotifyAfter: 6 * HOUR,
      expiresAt: '2026-10-24T18:00:00.000Z',
      delayNotifyAt: undefined,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = deliveryDeadlines({
        arrival,
        expireAfter: c.expireAfter,
        delayNotifyAfter: c.delayNotifyAfter,
      });
      assert.equal(new Date(d.expiresAt).toISOString(), c.expiresAt);
      assert.equal(
        d.delayNotifyAt === undefined ? undefined : new Date(d.delayNotifyAt).toISOString(),
        c.delayNotifyAt,
      );
    });
  }
});
