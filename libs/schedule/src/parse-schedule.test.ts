import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule } from './parse-schedule.js';

describe('parseSchedule accepts', () => {
  const cases: readonly {
    name: string;
    spec: string | readonly string[];
    normalized: string | readonly string[];
  }[] = [
    { name: 'always, in any case', spec: 'Always', normalized: 'always' },
    { name: 'never', spec: ' never ', normalized: 'never' },
    { name: 'every 2h', spec: 'every 2h', normalized: 'every 2h' },
    { name: 'every N hours written out', spec: 'Every 4 hours', normalized: 'every 4h' },
    { name: 'every 1 hour', spec: 'every 1 hour', normalized: 'every 1h' },
    { name: 'every 24h (once a day at midnight)', spec: 'every 24h', normalized: 'every 24h' },
    {
      name: 'a single weekly window as a string',
      spec: 'mon-fri 18:00-23:45',
      normalized: 'Mon-Fri 18:00-23:45',
    },
    {
      name: 'a list of windows, with 24:00 ending a day and wrapping day ranges',
      spec: [
        'Sat 00:00-24:00',
        'Fri-Mon 22:00-06:00',
        'Mon, Wed,Fri 9:00-10:00',
        'Tuesday 02:00-04:00',
      ],
      normalized: [
        'Sat 00:00-24:00',
        'Fri-Mon 22:00-06:00',
        'Mon,Wed,Fri 09:00-10:00',
        'Tue 02:00-04:00',
      ],
    },
  ];
  for (const c of cases) {
    test(`accepts ${c.name}`, () => {
      const r = parseSchedule(c.spec, 'Europe/Berlin');
      assert.ok(r.ok, r.ok ? '' : r.reason);
      assert.deepEqual(r.schedule.spec, c.normalized);
      assert.equal(r.schedule.timeZone, 'Europe/Berlin');
    });
  }
});

describe('parseSchedule rejects, saying which part is wrong and what is expected', () => {
  const cases: readonly {
    name: string;
    spec: string | readonly string[];
    timeZone?: string;
    reason: string;
  }[] = [
    {
      name: 'an unknown word',
      spec: 'sometimes',
      reason:
        '"sometimes" is not a schedule: expected always, never, "every N hours" (e.g. "every 2h"), or weekly windows like "Mon-Fri 18:00-23:45"',
    },
    {
      name: 'every 0h',
      spec: 'every 0h',
      reason: '"every 0h": N must be a whole number of hours from 1 to 24',
    },
    {
      name: 'every 25 hours',
      spec: 'every 25 hours',
      reason: '"every 25 hours": N must be a whole number of hours from 1 to 24',
    },
    {
      name: 'every N minutes',
      spec: 'every 30m',
      reason:
        '"every 30m" is not a repeat: expected "every N hours" or "every Nh" with N from 1 to 24, e.g. "every 2h"',
    },
    {
      name: 'minutes off the 15-minute grid',
      spec: ['Mon-Fri 18:00-23:50'],
      reason:
        '[0] "Mon-Fri 18:00-23:50": end 23:50 is not on a 15-minute boundary: minutes must be 00, 15, 30 or 45',
    },
    {
      name: 'an unknown day, naming the list entry',
      spec: ['Mon 10:00-11:00', 'Mox-Fri 10:00-11:00'],
      reason:
        '[1] "Mox-Fri 10:00-11:00": unknown day "Mox": expected Mon, Tue, Wed, Thu, Fri, Sat or Sun',
    },
    {
      name: 'a window without days',
      spec: '18:00-23:45',
      reason:
        '"18:00-23:45": no days before the times: write e.g. "Mon-Sun 18:00-23:45" for every day',
    },
    {
      name: 'an hour past 24',
      spec: 'Mon 25:00-26:00',
      reason:
        '"Mon 25:00-26:00": start 25:00 is not a time of day: expected HH:MM from 00:00 to 24:00',
    },
    {
      name: 'a window starting at 24:00',
      spec: 'Mon 24:00-02:00',
      reason: '"Mon 24:00-02:00": start 24:00 is not a time a window can start at (00:00–23:45)',
    },
    {
      name: 'an empty window',
      spec: 'Mon 09:00-09:00',
      reason:
        '"Mon 09:00-09:00": start and end are both 09:00: the window would be empty (write 00:00-24:00 for a whole day)',
    },
    {
      name: 'a window with one time',
      spec: ['Mon-Fri 18:00'],
      reason:
        '[0] "Mon-Fri 18:00": expected "<days> HH:MM-HH:MM", e.g. "Mon-Fri 18:00-23:45", "Sat 00:00-24:00" or "Mon,Wed,Fri 09:00-10:00"',
    },
    {
      name: 'a keyword inside a list of windows',
      spec: ['Mon 10:00-11:00', 'every 2h'],
      reason: '[1] "every 2h": every stands alone, not in a list of weekly windows',
    },
    {
      name: 'an empty list',
      spec: [],
      reason:
        'an empty list of windows: expected always, never, "every N hours" (e.g. "every 2h"), or weekly windows like "Mon-Fri 18:00-23:45"',
    },
    {
      name: 'an unknown time zone',
      spec: 'always',
      timeZone: 'Europe/Atlantis',
      reason:
        'unknown time zone "Europe/Atlantis": expected an IANA name such as UTC or Europe/Berlin',
    },
  ];
  for (const c of cases) {
    test(`rejects ${c.name}`, () => {
      const r = parseSchedule(c.spec, c.timeZone ?? 'UTC');
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.reason, c.reason);
    });
  }
});
