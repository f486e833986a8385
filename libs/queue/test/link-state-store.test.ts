import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisServer } from '@mailbus/testing';
import {
  Keys,
  LinkStateStore,
  createWorkerConnection,
  type LinkPolicy,
  type RedisClient,
} from '../src/index.js';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const WINDOW = 1000;
/** Down at the first failure, for a minute. */
const MARK_AT_ONCE: LinkPolicy = { failuresToMarkDown: 1, downFor: 60_000, maxDownFor: 600_000 };

let server: RedisServer;
/** Another node's view of Redis: it writes link hashes behind this store's back. */
let other: Redis;

before(async () => {
  server = await RedisServer.start({ aof: false });
  other = server.client();
});
after(async () => {
  other.disconnect();
  await server.close();
});

interface Fixture {
  store: LinkStateStore;
  keys: Keys;
  redis: RedisClient;
  close: () => void;
}

function fixture(): Fixture {
  const keys = new Keys(`t${randomUUID().slice(0, 8)}`);
  const redis = createWorkerConnection({ url: server.url });
  return { store: new LinkStateStore(redis, keys), keys, redis, close: () => redis.disconnect() };
}

/** How many HGET commands this redis-server has run so far. */
async function hgetCalls(): Promise<number> {
  const info = await other.info('commandstats');
  const m = /cmdstat_hget:calls=(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

/** Another node marks `connector` down until `until`. */
async function markDownElsewhere(f: Fixture, connector: string, until: number): Promise<void> {
  await other.hset(f.keys.link(connector), { downUntil: String(until), downCount: '1' });
}

describe('LinkStateStore.down with maxAgeMs', () => {
  test('a second call within the window answers from what it read, without asking Redis', async () => {
    const f = fixture();
    try {
      assert.deepEqual(await f.store.down(['Internet'], T0, WINDOW), new Set());
      const calls = await hgetCalls();
      await markDownElsewhere(f, 'Internet', T0 + 60_000);
      assert.deepEqual(await f.store.down(['Internet'], T0 + 500, WINDOW), new Set());
      assert.deepEqual(await f.store.down(['Internet'], T0 + WINDOW - 1, WINDOW), new Set());
      assert.equal(await hgetCalls(), calls, 'Redis was read within the window');
      // The window has passed: read again, and the other node's mark shows.
      assert.deepEqual(
        await f.store.down(['Internet'], T0 + WINDOW, WINDOW),
        new Set(['Internet']),
      );
      assert.equal(await hgetCalls(), calls + 1);
    } finally {
      f.close();
    }
  });

  test('without maxAgeMs every call reads Redis and sees another node’s mark at once', async () => {
    const f = fixture();
    try {
      assert.deepEqual(await f.store.down(['Internet'], T0), new Set());
      await markDownElsewhere(f, 'Internet', T0 + 60_000);
      assert.deepEqual(await f.store.down(['Internet'], T0 + 1), new Set(['Internet']));
    } finally {
      f.close();
    }
  });

  test('a down mark read within the window ends at its downUntil, not at the end of the window', async () => {
    const f = fixture();
    try {
      await markDownElsewhere(f, 'Internet', T0 + 300);
      assert.deepEqual(await f.store.down(['Internet'], T0, WINDOW), new Set(['Internet']));
      assert.deepEqual(await f.store.down(['Internet'], T0 + 299, WINDOW), new Set(['Internet']));
      assert.deepEqual(await f.store.down(['Internet'], T0 + 300, WINDOW), new Set());
    } finally {
      f.close();
    }
  });

  test('a connector not read yet makes the whole call read Redis', async () => {
    const f = fixture();
    try {
      assert.deepEqual(await f.store.down(['Internet'], T0, WINDOW), new Set());
      await markDownElsewhere(f, 'Internet', T0 + 60_000);
      await markDownElsewhere(f, 'Backup', T0 + 60_000);
      assert.deepEqual(
        await f.store.down(['Internet', 'Backup', 'Partner'], T0 + 100, WINDOW),
        new Set(['Internet', 'Backup']),
      );
    } finally {
      f.close();
    }
  });

  test('this node’s own failure that marks the link down shows at once, within the window', async () => {
    const f = fixture();
    try {
      assert.deepEqual(await f.store.down(['Internet'], T0, WINDOW), new Set());
      const until = await f.store.recordFailure('Internet', '421 try later', MARK_AT_ONCE, T0 + 10);
      assert.equal(until, T0 + 10 + 60_000);
      assert.deepEqual(await f.store.down(['Internet'], T0 + 20, WINDOW), new Set(['Internet']));
    } finally {
      f.close();
    }
  });

  test('this node’s reset (operator "retry now") shows at once, within the window', async () => {
    const f = fixture();
    try {
      await f.store.recordFailure('Internet', '421 try later', MARK_AT_ONCE, T0);
      assert.deepEqual(await f.store.down(['Internet'], T0 + 10, WINDOW), new Set(['Internet']));
      await f.store.reset('Internet');
      assert.deepEqual(await f.store.down(['Internet'], T0 + 20, WINDOW), new Set());
      assert.equal((await f.store.status('Internet', T0 + 20)).state, 'up');
    } finally {
      f.close();
    }
  });

  test('this node’s success after failures shows the link up at once, within the window', async () => {
    const f = fixture();
    try {
      await f.store.recordFailure('Internet', '421 try later', MARK_AT_ONCE, T0);
      assert.deepEqual(await f.store.down(['Internet'], T0 + 10, WINDOW), new Set(['Internet']));
      await f.store.recordSuccess('Internet', T0 + 20);
      assert.deepEqual(await f.store.down(['Internet'], T0 + 30, WINDOW), new Set());
    } finally {
      f.close();
    }
  });

  test('a failure recorded while a read is in flight is not hidden by that read’s older answer', async () => {
    const f = fixture();
    try {
      // A bridgehead with many jobs: one job's delivery fails while another asks whether the link is down.
      const failing = f.store.recordFailure('Internet', '421 try later', MARK_AT_ONCE, T0);
      const reading = f.store.down(['Internet'], T0, WINDOW);
      await Promise.all([failing, reading]);
      assert.deepEqual(await f.store.down(['Internet'], T0 + 10, WINDOW), new Set(['Internet']));
    } finally {
      f.close();
    }
  });

  test('a reset while a read is in flight is not hidden by that read’s older answer', async () => {
    const f = fixture();
    try {
      await f.store.recordFailure('Internet', '421 try later', MARK_AT_ONCE, T0);
      // The read goes out first and finds the link down; the operator's reset lands after it.
      const reading = f.store.down(['Internet'], T0 + 10, WINDOW);
      const resetting = f.store.reset('Internet');
      assert.deepEqual(await reading, new Set(['Internet']));
      await resetting;
      assert.deepEqual(await f.store.down(['Internet'], T0 + 20, WINDOW), new Set());
    } finally {
      f.close();
    }
  });
});
