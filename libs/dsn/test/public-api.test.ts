import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dsn from '../src/index.js';

test('the package entry names every public function', () => {
  const names = Object.keys(dsn).sort();
  assert.deepEqual(names, [
    'DSN_MAX_RETURNED_BYTES',
    'buildDsn',
    'decodeXtext',
    'dsnAllowed',
    'encodeXtext',
    'formatRfc5322Date',
    'isNullSender',
    'orcptAddress',
    'parseMailDsnParams',
    'parseRcptDsnParams',
    'returnedPart',
    'shouldNotify',
    'statusText',
  ]);
});
