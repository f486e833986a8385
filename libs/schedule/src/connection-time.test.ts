import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextConnectionTime } from './connection-time.js';
import { parseSchedule } from './parse-schedule.js';
import type { Schedule } from './schedule.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function schedule(spec: string | readonly string[], timeZone = 'UTC'): Schedule {
  const r = parseSchedule(spec, timeZone);
  if (!r.ok) throw new Error(r.reason);
  return r.schedule;
}
const at = (iso: string) => Date.parse(iso);

describe('nextConnectionTime: when to connect to advanced.server', () => {
  test('every 2h: closed now → the next window opening, due and at alike', () => {
    const s = schedule('every 2h');
    const now = at('2026-12-01T07:20:00Z');
    assert.deepEqual(nextConnectionTime(s, now), {
      due: at('2026-12-01T08:00:00Z'),
      at: at('2026-12-01T08:00:00Z'),
    });
  });

  test('a window open at start is due at once, named by its opening; once acted on, the next window', () => {
    const s = schedule('every 2h');
    const now = at('2026-12-01T08:07:30Z');
    const first = nextConnectionTime(s, now);
    assert.deepEqual(first, { due: at('2026-12-01T08:00:00Z'), at: now });
    assert.deepEqual(nextConnectionTime(s, now + MIN, first?.due), {
      due: at('2026-12-01T10:00:00Z'),
      at: at('2026-12-01T10:00:00Z'),
    });
  });

  test('two nodes started at different times in one window compute the same due time', () => {
    const s = schedule('Mon-Fri 18:00-23:45');
    const a = nextConnectionTime(s, at('2026-12-01T18:01:00Z'));
    const b = nextConnectionTime(s, at('2026-12-01T21:44:59Z'));
    assert.equal(a?.due, at('2026-12-01T18:00:00Z'));
    assert.equal(b?.due, a?.due);
  });

  test('a weekly window in a time zone: the opening on the local wall clock', () => {
    const s = schedule('Sat 09:00-10:00', 'Europe/Berlin');
    // Tuesday 1 December 2026: next Saturday 09:00 CET = 08:00Z.
    assert.equal(
      nextConnectionTime(s, at('2026-12-01T12:00:00Z'))?.due,
      at('2026-12-05T08:00:00Z'),
    );
  });

  test('a list of windows: each opening; adjacent slots of one window are one connection', () => {
    const s = schedule(['Mon 06:00-06:30', 'Mon 12:00-13:00']);
    const now = at('2026-11-30T06:10:00Z'); // Monday
    const first = nextConnectionTime(s, now);
    assert.deepEqual(first, { due: at('2026-11-30T06:00:00Z'), at: now });
    assert.equal(nextConnectionTime(s, now, first?.due)?.due, at('2026-11-30T12:00:00Z'));
    assert.equal(
      nextConnectionTime(s, at('2026-11-30T12:20:00Z'), at('2026-11-30T12:00:00Z'))?.due,
      at('2026-12-07T06:00:00Z'),
    );
  });

  test('always: every 15 minutes on the clock; never: no connection time', () => {
    const s = schedule('always');
    const now = at('2026-12-01T07:20:00Z');
    const first = nextConnectionTime(s, now);
    assert.deepEqual(first, { due: at('2026-12-01T07:15:00Z'), at: now });
    assert.deepEqual(nextConnectionTime(s, now + 5 * MIN, first?.due), {
      due: at('2026-12-01T07:30:00Z'),
      at: at('2026-12-01T07:30:00Z'),
    });
    assert.equal(nextConnectionTime(schedule('never'), now), undefined);
  });

  test('a due time already acted on is not due again later in its window', () => {
    const s = schedule('every 1h');
    const due = at('2026-12-01T07:00:00Z');
    const next = nextConnectionTime(s, due + 14 * MIN, due);
    assert.equal(next?.due, due + HOUR);
  });
});
