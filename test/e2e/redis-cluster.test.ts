import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, RedisCluster, sendMail, waitFor, type SinkServer } from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { queuedId } from './delivery-helpers.js';
import { GatewayFixture } from './support/gateway-fixture.js';

/** Slot ranges of every master, from CLUSTER SLOTS: [first, last, port]. */
type SlotRange = [number, number, number];

function ownerOf(ranges: readonly SlotRange[], slot: number): number {
  const r = ranges.find(([a, b]) => slot >= a && slot <= b);
  if (!r) throw new Error(`slot ${slot} has no master`);
  return r[2];
}

describe('mailbus relays mail through a real 3-master Redis Cluster', { timeout: 90_000 }, () => {
  let f: GatewayFixture<'sinkA' | 'sinkB', 'port', RedisCluster>;
  let cluster: RedisCluster;
  let sinkA: SinkServer;
  let sinkB: SinkServer;
  let gateway: Gateway;
  let port: number;
  let ranges: SlotRange[];

  before(async () => {
    cluster = await RedisCluster.start({ masters: 3, timeoutMs: 30_000 });
    const [first] = cluster.ports;
    ranges = await cluster
      .withNode(first ?? 0, async (c) => {
        const slots = (await c.call('CLUSTER', 'SLOTS')) as Array<
          [number, number, [string, number]]
        >;
        return slots.map(([a, b, [, p]]): SlotRange => [a, b, p]);
      })
      .catch(async (err: unknown) => {
        await cluster.close();
        throw err;
      });
    f = await GatewayFixture.startOn(cluster, {
      sinks: { sinkA: {}, sinkB: {} },
      ports: ['port'],
      config: ({ redis, sinks: { sinkA, sinkB }, ports }) => `
organization: Test
redis:
  cluster: { nodes: ${JSON.stringify(redis.seeds)} }
  durability: fsync
  commandTimeout: 2s
virtualServers:
  - name: open
    listen: 127.0.0.1:${ports.port}
    fqdn: mx.open.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Alpha
    smartHosts: ["[127.0.0.1]:${sinkA.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: a.example }]
    partitions: 4
  - name: Beta
    smartHosts: ["[127.0.0.1]:${sinkB.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: b.example }]
`,
    });
    ({
      sinks: { sinkA, sinkB },
      ports: { port },
      gateway,
    } = f);
  });

  after(() => f?.close());

  test('the cluster has three masters that split the 16384 slots', () => {
    assert.equal(new Set(ranges.map(([, , p]) => p)).size, 3);
    assert.equal(
      ranges.reduce((n, [a, b]) => n + b - a + 1, 0),
      16384,
    );
  });

  test('a message is accepted with 250 and reaches the smart host through the cluster', async () => {
    const before = sinkA.messages.length;
    const r = await sendMail({
      port,
      from: 'alice@sender.test',
      to: ['bob@a.example'],
      raw: makeMessage({
        from: 'alice@sender.test',
        to: 'bob@a.example',
        body: 'through the cluster',
      }),
    });
    assert.match(r.response, /^250 2\.0\.0 OK queued as [0-9A-Z]{18}$/);
    const msgs = await sinkA.waitForMessages(before + 1, 30_000);
    assert.deepEqual(msgs[before]?.to, ['bob@a.example']);
    assert.match(msgs[before]?.raw.toString('latin1') ?? '', /through the cluster/);
  });

  test('a connector split into 4 partitions has its queues on more than one master, and each partition delivers', async () => {
    // Where the queues live: the hash tag of each partition queue decides its slot.
    const owners = await cluster.withNode(cluster.ports[0] ?? 0, async (c) => {
      const out: number[] = [];
      for (const tag of ['{Alpha}', '{Alpha#1}', '{Alpha#2}', '{Alpha#3}']) {
        const slot = Number(await c.call('CLUSTER', 'KEYSLOT', `mailbus:${tag}:wait`));
        out.push(ownerOf(ranges, slot));
      }
      return out;
    });
    assert.ok(new Set(owners).size > 1, `partition queues all on one master: ${owners.join(',')}`);

    const before = sinkA.messages.length;
    const n = 24;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await sendMail({
        port,
        from: 'alice@sender.test',
        to: [`user${i}@a.example`],
        raw: makeMessage({
          from: 'alice@sender.test',
          to: `user${i}@a.example`,
          body: `message ${i}`,
        }),
      });
      ids.push(queuedId(r.response));
    }
    await sinkA.waitForMessages(before + n, 30_000);
    const got = sinkA.messages
      .slice(before)
      .flatMap((m) => m.to)
      .sort();
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => `user${i}@a.example`).sort());

    // Every partition was used, and each partition's BullMQ keys sit on the master that owns its slot.
    const used = new Set<string>();
    for (const [i, p] of cluster.ports.entries()) {
      const keys = await cluster.keysOn(p, 'mailbus:{Alpha*}:*');
      for (const k of keys) {
        const tag = /^mailbus:(\{[^}]*\})/.exec(k)?.[1] ?? '';
        used.add(tag);
        const expected = owners[['{Alpha}', '{Alpha#1}', '{Alpha#2}', '{Alpha#3}'].indexOf(tag)];
        assert.equal(
          p,
          expected,
          `key ${k} on node ${i} (${p}) but its slot belongs to ${expected}`,
        );
      }
    }
    assert.deepEqual([...used].sort(), ['{Alpha#1}', '{Alpha#2}', '{Alpha#3}', '{Alpha}']);

    // Tracking streams (one slot per message) are spread over the masters too.
    const holders = new Set<number>();
    for (const p of cluster.ports) {
      const keys = await cluster.keysOn(p, 'mailbus:t:*');
      if (ids.some((id) => keys.includes(`mailbus:t:{${id}}`))) holders.add(p);
    }
    assert.ok(holders.size > 1, 'tracking keys of 24 messages all on one master');
  });

  test('a message with recipients on two connectors reaches both smart hosts, each recipient once', async () => {
    const beforeA = sinkA.messages.length;
    const beforeB = sinkB.messages.length;
    const to = ['x@a.example', 'y@a.example', 'z@b.example', 'w@b.example'];
    const r = await sendMail({
      port,
      from: 'carol@sender.test',
      to,
      raw: makeMessage({ from: 'carol@sender.test', to: to.join(', ') }),
    });
    assert.match(r.response, /^250 /);
    await sinkA.waitForMessages(beforeA + 1, 30_000);
    await sinkB.waitForMessages(beforeB + 1);
    // Every job has had its delivery: a recipient sent twice would be at its sink by now.
    await f.drained();
    assert.deepEqual(
      sinkA.messages
        .slice(beforeA)
        .flatMap((m) => m.to)
        .sort(),
      ['x@a.example', 'y@a.example'],
    );
    assert.deepEqual(
      sinkB.messages
        .slice(beforeB)
        .flatMap((m) => m.to)
        .sort(),
      ['w@b.example', 'z@b.example'],
    );
  });

  test('message tracking records history and finds the message by sender, recipient and Message-ID across slots', async () => {
    const before = sinkB.messages.length;
    const raw = makeMessage({
      from: 'dave@sender.test',
      to: 'eve@b.example',
      messageId: '<cluster-track@sender.test>',
    });
    const r = await sendMail({ port, from: 'dave@sender.test', to: ['eve@b.example'], raw });
    const id = queuedId(r.response);
    await sinkB.waitForMessages(before + 1);
    const queue = gateway.workerQueue;
    assert.ok(queue);
    const history = await waitFor(
      async () => {
        const h = await queue.tracking.history(id);
        return h.some((e) => e.type === 'delivered') ? h : undefined;
      },
      { timeoutMs: 10_000, what: 'a delivered event' },
    );
    const types = history.map((e) => e.type);
    assert.equal(types[0], 'received');
    assert.ok(types.includes('delivered'), types.join(','));
    assert.equal(history.find((e) => e.type === 'delivered')?.connector, 'Beta');
    assert.deepEqual(await queue.tracking.find('dave@sender.test'), [id]);
    assert.deepEqual(await queue.tracking.find('EVE@b.example'), [id]);
    assert.deepEqual(await queue.tracking.find('<cluster-track@sender.test>'), [id]);
  });
});
