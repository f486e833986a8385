import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newQueueId } from './message-id.js';

describe('newQueueId', () => {
  test('is 18 characters of [0-9A-Z] and unique over 100,000 ids made in the same millisecond', () => {
    const now = Date.UTC(2026, 10, 22, 9, 0, 0);
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = newQueueId(now);
      assert.match(id, /^[0-9A-Z]{18}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 100_000);
  });

  test('without a time it uses the clock and is still well formed', () => {
    const before = Date.now();
    const id = newQueueId();
    const after = Date.now();
    assert.match(id, /^[0-9A-Z]{18}$/);
    const t = parseInt(id.slice(0, 9), 36);
    assert.ok(t >= before && t <= after, `${t} not in [${before}, ${after}]`);
  });

  test('sorts in time order for increasing times, across base-36 digit carries', () => {
    const start = Date.UTC(2026, 10, 22, 9, 0, 0);
    const times = [
      0,
      1,
      35,
      36,
      1295,
      1296,
      Date.UTC(2001, 0, 1),
      start - 1,
      start,
      start + 1,
      start + 35,
      start + 36,
      Date.UTC(2100, 0, 1),
    ];
    const ids = times.map((t) => newQueueId(t));
    assert.deepEqual([...ids].sort(), ids);
    for (let i = 1; i < ids.length; i++) {
      assert.ok((ids[i - 1] as string) < (ids[i] as string), `${ids[i - 1]} !< ${ids[i]}`);
    }
  });

  test('ids made a millisecond apart sort in time order whatever their random part', () => {
    const start = Date.UTC(2026, 10, 22, 9, 0, 0);
    let prev = newQueueId(start);
    for (let t = start + 1; t < start + 5_000; t++) {
      const id = newQueueId(t);
      assert.ok(prev < id, `${prev} !< ${id}`);
      prev = id;
    }
  });

  test('carries its time: the first 9 characters are the milliseconds in base 36', () => {
    const t = Date.UTC(2026, 10, 22, 9, 30, 15, 123);
    assert.equal(parseInt(newQueueId(t).slice(0, 9), 36), t);
  });
});
