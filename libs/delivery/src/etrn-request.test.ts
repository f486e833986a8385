import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etrnSucceeded } from './etrn-request.js';

test('ETRN replies 250-253 are success, every other reply a failure (RFC 1985 section 5)', () => {
  for (const code of [250, 251, 252, 253]) assert.equal(etrnSucceeded(code), true, String(code));
  for (const code of [0, 220, 254, 421, 458, 459, 500, 501, 502, 530])
    assert.equal(etrnSucceeded(code), false, String(code));
});
