import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { shouldNotify } from './should-notify.js';
import type { NotifyKeyword } from './should-notify.js';

describe('shouldNotify (RFC 3461 NOTIFY)', () => {
  const cases: readonly {
    name: string;
    notify: readonly NotifyKeyword[] | undefined;
    failure: boolean;
    delay: boolean;
    success: boolean;
  }[] = [
    {
      name: 'reports failures and delays but not success when NOTIFY is absent',
      notify: undefined,
      failure: true,
      delay: true,
      success: false,
    },
    {
      name: 'reports nothing for NOTIFY=NEVER',
      notify: ['NEVER'],
      failure: false,
      delay: false,
      success: false,
    },
    {
      name: 'reports only success for NOTIFY=SUCCESS',
      notify: ['SUCCESS'],
      failure: false,
      delay: false,
      success: true,
    },
    {
      name: 'reports only failures for NOTIFY=FAILURE',
      notify: ['FAILURE'],
      failure: true,
      delay: false,
      success: false,
    },
    {
      name: 'reports all three for NOTIFY=SUCCESS,FAILURE,DELAY',
      notify: ['SUCCESS', 'FAILURE', 'DELAY'],
      failure: true,
      delay: true,
      success: true,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(shouldNotify(c.notify, 'failure'), c.failure);
      assert.equal(shouldNotify(c.notify, 'delay'), c.delay);
      assert.equal(shouldNotify(c.notify, 'success'), c.success);
    });
  }
});
