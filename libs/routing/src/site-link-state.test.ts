import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatLinkReport,
  newerReports,
  parseLinkReport,
  remoteDown,
  SITE_LINK_STALE_MS,
} from './site-link-state.js';

const groupOf = (c: string) =>
  ({ Internet: 'Paris', 'Paris-Boston': 'Paris', BostonISP: 'Boston' })[c];

describe('link state between sites', () => {
  test("a site speaks only for its own connectors, never for the receiving group's", () => {
    const r = remoteDown(
      [
        { group: 'Paris', at: 1000, down: ['Internet', 'BostonISP'] },
        { group: 'Boston', at: 1000, down: ['BostonISP'] },
      ],
      'Boston',
      groupOf,
      2000,
    );
    assert.deepEqual([...r.down], ['Internet']);
    assert.deepEqual(r.stale, []);
  });

  test('a report older than the stale limit is still used, and named stale', () => {
    const r = remoteDown(
      [{ group: 'Paris', at: 0, down: ['Internet'] }],
      'Boston',
      groupOf,
      SITE_LINK_STALE_MS + 1,
    );
    assert.deepEqual([...r.down], ['Internet']);
    assert.deepEqual(r.stale, ['Paris']);
  });

  test('only reports newer than the stored one per group are kept', () => {
    assert.deepEqual(
      newerReports(
        [{ group: 'Paris', at: 5, down: [] }],
        [
          { group: 'Paris', at: 4, down: ['Internet'] },
          { group: 'Tokyo', at: 1, down: [] },
        ],
      ),
      [{ group: 'Tokyo', at: 1, down: [] }],
    );
  });

  test('the X-LINK2STATE argument round-trips, names with spaces included; junk is refused', () => {
    const r = { group: 'Paris West', at: 1733000000000, down: ['Internet 2', 'A,B'] };
    assert.equal(formatLinkReport(r), 'Paris%20West 1733000000000 Internet%202,A%2CB');
    assert.deepEqual(parseLinkReport(formatLinkReport(r)), r);
    assert.deepEqual(parseLinkReport('Paris 5 -'), { group: 'Paris', at: 5, down: [] });
    assert.equal(parseLinkReport('Paris soon -'), undefined);
    assert.equal(parseLinkReport('Paris 5'), undefined);
    assert.equal(parseLinkReport('Paris 5 %E0'), undefined);
  });
});
