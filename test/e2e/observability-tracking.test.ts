import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMessage, sendMail, waitFor } from '@mailbus/testing';
import { trackCommand, type Gateway } from '@mailbus/cli';
import type { TrackingEvent } from '@mailbus/queue';
import { queuedId } from './delivery-helpers.js';
import { GatewayFixture } from './support/gateway-fixture.js';

describe('message tracking follows one message through a failover', () => {
  let f: GatewayFixture<'sink', 'smtp' | 'closed'>;
  let gateway: Gateway;
  let dir: string;
  let configFile: string;
  let queueId: string;
  const messageId = `<track.${Date.now().toString(36)}@sender.test>`;
  let events: TrackingEvent[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailbus-track-'));
    configFile = join(dir, 'mailbus.yaml');
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      ports: ['smtp', 'closed'],
      config: ({ redis, sinks: { sink }, ports: { smtp, closed } }) => {
        // The same config for the gateway and for `mailbus track`.
        const yaml = `
organization: Test
redis: { url: "${redis.url}", prefix: "trk${process.pid}", commandTimeout: 1s }
virtualServers:
  - name: open
    listen: 127.0.0.1:${smtp}
    fqdn: mx.open.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Primary
    smartHosts: ["[127.0.0.1]:${closed}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: fail.example, cost: 1 }]
  - name: Backup
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: fail.example, cost: 2 }]
`;
        writeFileSync(configFile, yaml);
        return yaml;
      },
    });
    gateway = f.gateway;
    const raw = makeMessage({ from: 'alice@sender.test', to: 'bob@fail.example', messageId });
    const r = await sendMail({
      port: f.ports.smtp,
      from: 'alice@sender.test',
      to: ['bob@fail.example'],
      raw,
    });
    queueId = queuedId(r.response);
    await f.sinks.sink.waitForMessages(1, 30_000);
    const queue = f.queue;
    await waitFor(
      async () => {
        events = await queue.tracking.history(queueId);
        return events.some((e) => e.type === 'delivered');
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the delivered event' },
    );
  });

  after(async () => {
    await f?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('history lists received, attempt on Primary, failover to Backup, attempt on Backup, delivered, in that order', () => {
    assert.deepEqual(
      events.map((e) => `${e.type}${e.connector ? ` ${e.connector}` : ''}`),
      ['received', 'attempt Primary', 'failover Backup', 'attempt Backup', 'delivered Backup'],
    );
    const [received, attempt1, failover, attempt2, delivered] = events;
    assert.deepEqual(received?.recipients, ['bob@fail.example']);
    assert.match(received?.detail ?? '', /from alice@sender\.test via open client 127\.0\.0\.1/);
    assert.match(attempt1?.host ?? '', /^127\.0\.0\.1:\d+$/);
    assert.match(failover?.reply ?? '', /^4\d\d /, 'the failover carries the transient reply');
    assert.match(failover?.detail ?? '', /from Primary/);
    assert.equal(attempt2?.host, `127.0.0.1:${f.sinks.sink.port}`);
    assert.match(delivered?.reply ?? '', /^250 /);
    for (let i = 1; i < events.length; i++)
      assert.ok((events[i]?.at ?? 0) >= (events[i - 1]?.at ?? 0), 'times never go back');
    for (const e of events) assert.ok(e.node.length > 0, 'every event names its node');
  });

  test('find() returns the queue id by queue id, Message-ID (with or without <>), sender and recipient, in any case', async () => {
    const queue = gateway.workerQueue;
    assert.ok(queue);
    for (const term of [
      queueId,
      messageId,
      messageId.slice(1, -1),
      'alice@sender.test',
      'bob@fail.example',
      'BOB@Fail.Example',
    ]) {
      assert.deepEqual(await queue.tracking.find(term), [queueId], term);
    }
    assert.deepEqual(await queue.tracking.find('nobody@nowhere.test'), []);
  });

  test('mailbus track prints one line per event with time, node, event, connector, recipient, host and reply', async () => {
    const lines: string[] = [];
    const status = await trackCommand(['--config', configFile, messageId], {}, (s) =>
      lines.push(...s.split('\n')),
    );
    assert.equal(status, 0);
    if (process.env.DUMP_TRACK) process.stderr.write(`${lines.join('\n')}\n`);
    assert.equal(lines[0], `message ${queueId}`);
    const rows = lines.slice(1);
    assert.equal(rows.length, 5);
    const iso = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    assert.match(
      rows[0] ?? '',
      new RegExp(
        `^  ${iso}  \\S+  received   -  bob@fail\\.example  -  from alice@sender\\.test via open`,
      ),
    );
    assert.match(
      rows[1] ?? '',
      new RegExp(
        `^  ${iso}  \\S+  attempt    Primary  bob@fail\\.example  127\\.0\\.0\\.1:\\d+  -$`,
      ),
    );
    assert.match(
      rows[2] ?? '',
      new RegExp(
        `^  ${iso}  \\S+  failover   Backup  bob@fail\\.example  -  4\\d\\d .*; from Primary`,
      ),
    );
    assert.match(
      rows[3] ?? '',
      new RegExp(
        `^  ${iso}  \\S+  attempt    Backup  bob@fail\\.example  127\\.0\\.0\\.1:${f.sinks.sink.port}  -$`,
      ),
    );
    assert.match(
      rows[4] ?? '',
      new RegExp(`^  ${iso}  \\S+  delivered  Backup  bob@fail\\.example  \\S+  250 `),
    );
  });

  test('mailbus track --json by sender prints {"messages":[{"id","events"}]}', async () => {
    const lines: string[] = [];
    const status = await trackCommand(
      ['--config', configFile, '--json', 'alice@sender.test'],
      {},
      (s) => lines.push(s),
    );
    assert.equal(status, 0);
    const parsed = JSON.parse(lines.join('')) as {
      messages: Array<{ id: string; events: TrackingEvent[] }>;
    };
    assert.deepEqual(
      parsed.messages.map((m) => [m.id, m.events.map((e) => e.type)]),
      [[queueId, ['received', 'attempt', 'failover', 'attempt', 'delivered']]],
    );
  });

  test('mailbus track fails with exit 1 and a message naming the term when nothing is found', async () => {
    await assert.rejects(
      trackCommand(['--config', configFile, 'nobody@nowhere.test'], {}, () => undefined),
      (e: Error & { exitCode?: number }) => {
        assert.equal(e.exitCode, 1);
        assert.match(e.message, /no message found for "nobody@nowhere\.test"/);
        return true;
      },
    );
  });

  test('mailbus track says where it looked when the config names no Redis and no mailbus start runs', async () => {
    const noRedis = join(dir, 'embedded.yaml');
    writeFileSync(
      noRedis,
      `redis: { prefix: "trk${process.pid}" }\nvirtualServers:\n  - { name: open, fqdn: mx.open.test }\n`,
    );
    await assert.rejects(
      trackCommand(['--config', noRedis, queueId], {}, () => undefined),
      (e: Error & { exitCode?: number }) => {
        assert.equal(e.exitCode, 1);
        assert.match(e.message, /^MAILBUS_ERR_REDIS_UNREACHABLE: no Redis to talk to/);
        assert.match(
          e.message,
          /no `mailbus start` runs on the data directory .*--data-dir DIR or --redis URL/,
        );
        return true;
      },
    );
    const lines: string[] = [];
    assert.equal(
      await trackCommand(['--config', noRedis, '--redis', f.redis.url, queueId], {}, (s) =>
        lines.push(s),
      ),
      0,
    );
    assert.equal(lines[0], `message ${queueId}`);
  });
});
