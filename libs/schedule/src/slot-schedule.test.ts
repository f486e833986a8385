import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { utcOffset } from './local-time.js';
import { parseSchedule } from './parse-schedule.js';
import type { Schedule } from './schedule.js';
import { scanSlots } from './scan-slots.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function schedule(spec: string | readonly string[], timeZone: string): Schedule {
  const r = parseSchedule(spec, timeZone);
  if (!r.ok) throw new Error(r.reason);
  return r.schedule;
}

/**
 * When the window open at `t` closes: the first instant >= t at which the schedule is closed
 * (t when closed; Infinity for always), from the schedule's own closesAt or by scanning slots.
 */
function closesAt(schedule: Schedule, t: number): number {
  if (schedule.spec === 'always') return Number.POSITIVE_INFINITY;
  const own = (schedule as { closesAt?: (t: number) => number }).closesAt;
  if (own) return own.call(schedule, t);
  return scanSlots(
    (x) => schedule.isOpen(x),
    (x) => utcOffset(x, schedule.timeZone),
    t,
    false,
  );
}

/** Local times with their offset ("2026-03-29T03:00+02:00") → ms. */
function at(local: string): number {
  const t = Date.parse(local);
  assert.ok(Number.isFinite(t), `bad test time ${local}`);
  return t;
}

/** Every open window in [from, to) as [open, close] ISO strings, from nextOpen and closesAt. */
function expand(s: Schedule, from: number, to: number): [string, string][] {
  const out: [string, string][] = [];
  let t = from;
  while (t < to) {
    const open = s.nextOpen(t);
    if (open >= to) break;
    const close = closesAt(s, open);
    assert.ok(close > open, `closesAt(${new Date(open).toISOString()}) did not move forward`);
    out.push([new Date(open).toISOString(), new Date(close).toISOString()]);
    t = close;
  }
  return out;
}

/** isOpen sampled every 5 minutes and just around each transition agrees with the windows. */
function assertIsOpenAgrees(
  s: Schedule,
  from: number,
  to: number,
  windows: readonly (readonly [string, string])[],
): void {
  const spans = windows.map(([a, b]) => [Date.parse(a), Date.parse(b)] as const);
  const inside = (t: number): boolean => spans.some(([a, b]) => t >= a && t < b);
  for (let t = from; t < to; t += 5 * MIN)
    assert.equal(s.isOpen(t), inside(t), `isOpen at ${new Date(t).toISOString()}`);
  for (const [a, b] of spans) {
    assert.equal(s.isOpen(a), true, `open at ${new Date(a).toISOString()}`);
    assert.equal(s.isOpen(b - 1), true, `still open just before ${new Date(b).toISOString()}`);
    assert.equal(s.isOpen(b), false, `closed at ${new Date(b).toISOString()}`);
    if (a === from) continue;
    assert.equal(s.isOpen(a - 1), false, `closed just before ${new Date(a).toISOString()}`);
    assert.equal(s.nextOpen(a - 1), a, `nextOpen just before ${new Date(a).toISOString()}`);
  }
}

/** Windows written as local times with offsets, compared as UTC ISO strings. */
const w = (open: string, close: string): [string, string] => [
  new Date(at(open)).toISOString(),
  new Date(at(close)).toISOString(),
];

interface WeekCase {
  readonly name: string;
  readonly spec: string | readonly string[];
  readonly timeZone: string;
  readonly from: string;
  readonly to: string;
  readonly windows: readonly [string, string][];
}

const weeks: readonly WeekCase[] = [
  {
    name: 'opens every weekday evening until 23:45 in UTC',
    spec: ['Mon-Fri 18:00-23:45'],
    timeZone: 'UTC',
    from: '2026-01-05T00:00Z',
    to: '2026-01-12T00:00Z',
    windows: [
      w('2026-01-05T18:00Z', '2026-01-05T23:45Z'),
      w('2026-01-06T18:00Z', '2026-01-06T23:45Z'),
      w('2026-01-07T18:00Z', '2026-01-07T23:45Z'),
      w('2026-01-08T18:00Z', '2026-01-08T23:45Z'),
      w('2026-01-09T18:00Z', '2026-01-09T23:45Z'),
    ],
  },
  {
    name: 'joins Saturday and Sunday whole days into one weekend window',
    spec: ['Sat 00:00-24:00', 'Sun 00:00-24:00'],
    timeZone: 'UTC',
    from: '2026-01-05T00:00Z',
    to: '2026-01-12T00:00Z',
    windows: [w('2026-01-10T00:00Z', '2026-01-12T00:00Z')],
  },
  {
    name: 'opens a list of single days at the same hour in winter Berlin',
    spec: ['Mon,Wed,Fri 09:00-10:00'],
    timeZone: 'Europe/Berlin',
    from: '2026-01-05T00:00+01:00',
    to: '2026-01-12T00:00+01:00',
    windows: [
      w('2026-01-05T09:00+01:00', '2026-01-05T10:00+01:00'),
      w('2026-01-07T09:00+01:00', '2026-01-07T10:00+01:00'),
      w('2026-01-09T09:00+01:00', '2026-01-09T10:00+01:00'),
    ],
  },
  {
    name: 'keeps the nightly 02:00-04:00 window on the Berlin spring-forward Sunday, shortened to 03:00-04:00',
    spec: ['Mon-Sun 02:00-04:00'],
    timeZone: 'Europe/Berlin',
    from: '2026-03-23T00:00+01:00',
    to: '2026-03-30T00:00+02:00',
    windows: [
      w('2026-03-23T02:00+01:00', '2026-03-23T04:00+01:00'),
      w('2026-03-24T02:00+01:00', '2026-03-24T04:00+01:00'),
      w('2026-03-25T02:00+01:00', '2026-03-25T04:00+01:00'),
      w('2026-03-26T02:00+01:00', '2026-03-26T04:00+01:00'),
      w('2026-03-27T02:00+01:00', '2026-03-27T04:00+01:00'),
      w('2026-03-28T02:00+01:00', '2026-03-28T04:00+01:00'),
      w('2026-03-29T03:00+02:00', '2026-03-29T04:00+02:00'),
    ],
  },
  {
    name: 'runs the nightly 02:00-04:00 window three real hours on the Berlin fall-back Sunday',
    spec: ['Mon-Sun 02:00-04:00'],
    timeZone: 'Europe/Berlin',
    from: '2026-10-19T00:00+02:00',
    to: '2026-10-26T00:00+01:00',
    windows: [
      w('2026-10-19T02:00+02:00', '2026-10-19T04:00+02:00'),
      w('2026-10-20T02:00+02:00', '2026-10-20T04:00+02:00'),
      w('2026-10-21T02:00+02:00', '2026-10-21T04:00+02:00'),
      w('2026-10-22T02:00+02:00', '2026-10-22T04:00+02:00'),
      w('2026-10-23T02:00+02:00', '2026-10-23T04:00+02:00'),
      w('2026-10-24T02:00+02:00', '2026-10-24T04:00+02:00'),
      w('2026-10-25T02:00+02:00', '2026-10-25T04:00+01:00'),
    ],
  },
  {
    name: 'runs a window that lies wholly in the skipped hour right after the Berlin spring-forward jump',
    spec: ['Sun 02:15-02:45'],
    timeZone: 'Europe/Berlin',
    from: '2026-03-23T00:00+01:00',
    to: '2026-03-30T00:00+02:00',
    windows: [w('2026-03-29T03:00+02:00', '2026-03-29T03:30+02:00')],
  },
  {
    name: 'continues a window that ends inside the skipped hour for its skipped part after the jump',
    spec: ['Sun 01:00-02:30'],
    timeZone: 'Europe/Berlin',
    from: '2026-03-23T00:00+01:00',
    to: '2026-03-30T00:00+02:00',
    windows: [w('2026-03-29T01:00+01:00', '2026-03-29T03:30+02:00')],
  },
  {
    name: 'wraps Fri-Mon overnight windows past midnight across the New York spring-forward night',
    spec: ['Fri-Mon 22:00-06:00'],
    timeZone: 'America/New_York',
    from: '2026-03-02T00:00-05:00',
    to: '2026-03-09T00:00-04:00',
    windows: [
      w('2026-03-02T00:00-05:00', '2026-03-02T06:00-05:00'),
      w('2026-03-02T22:00-05:00', '2026-03-03T06:00-05:00'),
      w('2026-03-06T22:00-05:00', '2026-03-07T06:00-05:00'),
      w('2026-03-07T22:00-05:00', '2026-03-08T06:00-04:00'),
      w('2026-03-08T22:00-04:00', '2026-03-09T06:00-04:00'),
    ],
  },
  {
    name: 'opens a window in the repeated hour both times on the New York fall-back Sunday',
    spec: ['Sun 01:00-01:30', 'Mon,Wed,Fri 09:00-10:00'],
    timeZone: 'America/New_York',
    from: '2026-10-26T00:00-04:00',
    to: '2026-11-02T00:00-05:00',
    windows: [
      w('2026-10-26T09:00-04:00', '2026-10-26T10:00-04:00'),
      w('2026-10-28T09:00-04:00', '2026-10-28T10:00-04:00'),
      w('2026-10-30T09:00-04:00', '2026-10-30T10:00-04:00'),
      w('2026-11-01T01:00-04:00', '2026-11-01T01:30-04:00'),
      w('2026-11-01T01:00-05:00', '2026-11-01T01:30-05:00'),
    ],
  },
  {
    name: 'follows a quarter-hour zone offset (Kathmandu, +05:45)',
    spec: ['Tue 09:00-09:15'],
    timeZone: 'Asia/Kathmandu',
    from: '2026-01-05T00:00+05:45',
    to: '2026-01-12T00:00+05:45',
    windows: [w('2026-01-06T09:00+05:45', '2026-01-06T09:15+05:45')],
  },
];

describe('weekly windows over whole weeks', () => {
  for (const c of weeks) {
    test(c.name, () => {
      const s = schedule(c.spec, c.timeZone);
      const from = at(c.from);
      const to = at(c.to);
      assert.deepEqual(expand(s, from, to), c.windows);
      assertIsOpenAgrees(s, from, to, c.windows);
    });
  }
});

/** Fifteen-minute runs starting at the given local times. */
const runs = (...starts: string[]): [string, string][] =>
  starts.map((s) => w(s, new Date(at(s) + 15 * MIN).toISOString()));

interface DayCase {
  readonly name: string;
  readonly spec: string;
  readonly timeZone: string;
  readonly from: string;
  readonly to: string;
  readonly windows: readonly [string, string][];
}

const days: readonly DayCase[] = [
  {
    name: 'every 2h runs at 00:00, 02:00 … 22:00 for fifteen minutes in UTC',
    spec: 'every 2h',
    timeZone: 'UTC',
    from: '2026-01-05T00:00Z',
    to: '2026-01-06T00:00Z',
    windows: runs(
      ...[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22].map(
        (h) => `2026-01-05T${String(h).padStart(2, '0')}:00Z`,
      ),
    ),
  },
  {
    name: 'every 2h runs the skipped 02:00 at 03:00 on the Berlin spring-forward day',
    spec: 'every 2 hours',
    timeZone: 'Europe/Berlin',
    from: '2026-03-29T00:00+01:00',
    to: '2026-03-30T00:00+02:00',
    windows: runs(
      '2026-03-29T00:00+01:00',
      '2026-03-29T03:00+02:00',
      '2026-03-29T04:00+02:00',
      '2026-03-29T06:00+02:00',
      '2026-03-29T08:00+02:00',
      '2026-03-29T10:00+02:00',
      '2026-03-29T12:00+02:00',
      '2026-03-29T14:00+02:00',
      '2026-03-29T16:00+02:00',
      '2026-03-29T18:00+02:00',
      '2026-03-29T20:00+02:00',
      '2026-03-29T22:00+02:00',
    ),
  },
  {
    name: 'every 2h runs 02:00 twice on the Berlin fall-back day',
    spec: 'every 2h',
    timeZone: 'Europe/Berlin',
    from: '2026-10-25T00:00+02:00',
    to: '2026-10-26T00:00+01:00',
    windows: runs(
      '2026-10-25T00:00+02:00',
      '2026-10-25T02:00+02:00',
      '2026-10-25T02:00+01:00',
      '2026-10-25T04:00+01:00',
      '2026-10-25T06:00+01:00',
      '2026-10-25T08:00+01:00',
      '2026-10-25T10:00+01:00',
      '2026-10-25T12:00+01:00',
      '2026-10-25T14:00+01:00',
      '2026-10-25T16:00+01:00',
      '2026-10-25T18:00+01:00',
      '2026-10-25T20:00+01:00',
      '2026-10-25T22:00+01:00',
    ),
  },
  {
    name: 'every 1h merges the skipped 02:00 run into 03:00 on the New York spring-forward day',
    spec: 'every 1h',
    timeZone: 'America/New_York',
    from: '2026-03-08T00:00-05:00',
    to: '2026-03-08T06:00-04:00',
    windows: runs(
      '2026-03-08T00:00-05:00',
      '2026-03-08T01:00-05:00',
      '2026-03-08T03:00-04:00',
      '2026-03-08T04:00-04:00',
      '2026-03-08T05:00-04:00',
    ),
  },
  {
    name: 'every 1h runs 01:00 twice on the New York fall-back day',
    spec: 'every 1h',
    timeZone: 'America/New_York',
    from: '2026-11-01T00:00-04:00',
    to: '2026-11-01T04:00-05:00',
    windows: runs(
      '2026-11-01T00:00-04:00',
      '2026-11-01T01:00-04:00',
      '2026-11-01T01:00-05:00',
      '2026-11-01T02:00-05:00',
      '2026-11-01T03:00-05:00',
    ),
  },
  {
    name: 'every 5h runs at 00:00, 05:00, 10:00, 15:00 and 20:00 (the last gap is shorter)',
    spec: 'every 5h',
    timeZone: 'America/New_York',
    from: '2026-03-08T00:00-05:00',
    to: '2026-03-09T00:00-04:00',
    windows: runs(
      '2026-03-08T00:00-05:00',
      '2026-03-08T05:00-04:00',
      '2026-03-08T10:00-04:00',
      '2026-03-08T15:00-04:00',
      '2026-03-08T20:00-04:00',
    ),
  },
];

describe('every N hours over whole days, DST days included', () => {
  for (const c of days) {
    test(c.name, () => {
      const s = schedule(c.spec, c.timeZone);
      const from = at(c.from);
      const to = at(c.to);
      assert.deepEqual(expand(s, from, to), c.windows);
      assertIsOpenAgrees(s, from, to, c.windows);
    });
  }

  test('every 2h opens 84 fifteen-minute runs over a Berlin week that contains the spring-forward day', () => {
    const s = schedule('every 2h', 'Europe/Berlin');
    const got = expand(s, at('2026-03-23T00:00+01:00'), at('2026-03-30T00:00+02:00'));
    assert.equal(got.length, 84);
    for (const [open, close] of got) assert.equal(Date.parse(close) - Date.parse(open), 15 * MIN);
  });
});

describe('nextOpen and closesAt', () => {
  const weekdays = schedule(['Mon-Fri 18:00-23:45'], 'UTC');
  const cases: readonly {
    name: string;
    s: Schedule;
    t: string;
    nextOpen: number;
    closesAt: number;
  }[] = [
    {
      name: 'nextOpen is t itself and closesAt the window end while open',
      s: weekdays,
      t: '2026-01-05T19:07:13.5Z',
      nextOpen: at('2026-01-05T19:07:13.5Z'),
      closesAt: at('2026-01-05T23:45Z'),
    },
    {
      name: 'nextOpen on Friday night is Monday 18:00 and closesAt is t while closed',
      s: weekdays,
      t: '2026-01-09T23:50Z',
      nextOpen: at('2026-01-12T18:00Z'),
      closesAt: at('2026-01-09T23:50Z'),
    },
    {
      name: 'every 2h closes fifteen minutes after the run starts',
      s: schedule('every 2h', 'Europe/Berlin'),
      t: '2026-06-01T10:05+02:00',
      nextOpen: at('2026-06-01T10:05+02:00'),
      closesAt: at('2026-06-01T10:15+02:00'),
    },
    {
      name: 'always never closes',
      s: schedule('always', 'UTC'),
      t: '2026-01-05T00:00Z',
      nextOpen: at('2026-01-05T00:00Z'),
      closesAt: Number.POSITIVE_INFINITY,
    },
    {
      name: 'never never opens',
      s: schedule('never', 'UTC'),
      t: '2026-01-05T00:00Z',
      nextOpen: Number.POSITIVE_INFINITY,
      closesAt: at('2026-01-05T00:00Z'),
    },
    {
      name: 'a window open all week never closes',
      s: schedule(['Mon-Sun 00:00-24:00'], 'Europe/Berlin'),
      t: '2026-03-29T01:30Z',
      nextOpen: at('2026-03-29T01:30Z'),
      closesAt: Number.POSITIVE_INFINITY,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(c.s.nextOpen(at(c.t)), c.nextOpen);
      assert.equal(closesAt(c.s, at(c.t)), c.closesAt);
    });
  }

  test('nextOpen from every minute of a closed Berlin week lands on the next window start', () => {
    const s = schedule(['Sun 02:15-02:45', 'Wed 12:00-12:15'], 'Europe/Berlin');
    const wed = at('2026-03-25T12:00+01:00');
    const sun = at('2026-03-29T03:00+02:00');
    for (let t = at('2026-03-23T00:00+01:00'); t < sun; t += 7 * MIN) {
      const expected = t < wed ? wed : t < wed + 15 * MIN ? t : sun;
      assert.equal(s.nextOpen(t), expected, new Date(t).toISOString());
    }
    assert.equal(s.nextOpen(sun + 30 * MIN), at('2026-04-01T12:00+02:00'));
  });

  test('nextOpen looks no further than about a week ahead and still finds a weekly window', () => {
    const s = schedule(['Mon 00:00-00:15'], 'UTC');
    assert.equal(s.nextOpen(at('2026-01-05T00:15Z')), at('2026-01-12T00:00Z'));
    assert.ok(at('2026-01-12T00:00Z') - at('2026-01-05T00:15Z') < 8 * DAY);
  });
});
