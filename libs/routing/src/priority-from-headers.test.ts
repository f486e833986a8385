import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { priorityFromHeaders } from './priority-from-headers.js';
import type { Priority } from './route-types.js';

const cases: Array<{ name: string; headers: Array<[string, string]>; expect: Priority }> = [
  { name: 'no priority header means normal', headers: [['Subject', 'hi']], expect: 'normal' },
  { name: 'X-Priority 1 is high', headers: [['X-Priority', '1']], expect: 'high' },
  {
    name: 'X-Priority "1 (Highest)" is high',
    headers: [['X-Priority', '1 (Highest)']],
    expect: 'high',
  },
  { name: 'X-Priority 2 is high', headers: [['x-priority', ' 2 (High)']], expect: 'high' },
  { name: 'X-Priority 3 is normal', headers: [['X-Priority', '3 (Normal)']], expect: 'normal' },
  { name: 'X-Priority 4 is low', headers: [['X-Priority', '4']], expect: 'low' },
  {
    name: 'X-Priority "5 (Lowest)" is low',
    headers: [['X-Priority', '5 (Lowest)']],
    expect: 'low',
  },
  { name: 'Importance: high is high', headers: [['Importance', 'High']], expect: 'high' },
  { name: 'Importance: low is low', headers: [['importance', 'low']], expect: 'low' },
  { name: 'Priority: urgent is high', headers: [['Priority', 'urgent']], expect: 'high' },
  { name: 'Priority: non-urgent is low', headers: [['Priority', 'Non-Urgent']], expect: 'low' },
  { name: 'Priority: normal is normal', headers: [['Priority', 'normal']], expect: 'normal' },
  {
    name: 'X-Priority wins over Importance',
    headers: [
      ['Importance', 'low'],
      ['X-Priority', '1'],
    ],
    expect: 'high',
  },
  {
    name: 'Importance wins over Priority',
    headers: [
      ['Priority', 'urgent'],
      ['Importance', 'low'],
    ],
    expect: 'low',
  },
  {
    name: 'an unreadable X-Priority falls through to Importance',
    headers: [
      ['X-Priority', 'very'],
      ['Importance', 'high'],
    ],
    expect: 'high',
  },
  {
    name: 'an X-Priority out of range is ignored',
    headers: [['X-Priority', '9']],
    expect: 'normal',
  },
  { name: 'an X-Priority like 10 is not 1', headers: [['X-Priority', '10']], expect: 'normal' },
];

describe('priorityFromHeaders', () => {
  for (const c of cases) {
    test(c.name, () => assert.equal(priorityFromHeaders(c.headers), c.expect));
  }
});
