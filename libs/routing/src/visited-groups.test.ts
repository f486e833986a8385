import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVisitedGroups, visitedGroupsHeader } from './visited-groups.js';

describe('visited routing groups header', () => {
  test('parses every header value in order, trimming, once each', () => {
    assert.deepEqual(parseVisitedGroups(['Paris, Boston', ' Paris ,Tokyo', '']), [
      'Paris',
      'Boston',
      'Tokyo',
    ]);
  });
  test('the header written on leaving a group ends with that group', () => {
    assert.equal(
      visitedGroupsHeader(['Paris'], 'Boston'),
      'X-Mailbus-Routing-Groups: Paris, Boston\r\n',
    );
    assert.equal(visitedGroupsHeader([], 'Paris'), 'X-Mailbus-Routing-Groups: Paris\r\n');
  });
});
