import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRfc5322Date } from './format-rfc5322-date.js';

test('formats an instant as an RFC 5322 date in UTC', () => {
  assert.equal(
    formatRfc5322Date(Date.parse('2026-03-29T01:00:00.999Z')),
    'Sun, 29 Mar 2026 01:00:00 +0000',
  );
  assert.equal(
    formatRfc5322Date(Date.parse('2026-11-01T23:05:09Z')),
    'Sun, 1 Nov 2026 23:05:09 +0000',
  );
});
