import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@mailbus/config';
import { createWorkerConnection, MailQueue, newQueueId, type RedisClient } from '@mailbus/queue';
import { RedisServer } from '@mailbus/testing';
import { CONNECTOR_DEPTH_KEYS, CONNECTOR_SUMMARY_KEYS } from './connector-summary-keys.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/main.js');

function mailbus(
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (status) => {
      clearTimeout(t);
      res({ status, stdout, stderr });
    });
  });
}

describe('mailbus connector and mailbus queue act on Redis from a terminal', () => {
  let redis: RedisServer;
  let conn: RedisClient;
  let queue: MailQueue;
  let file: string;

  before(async () => {
    redis = await RedisServer.start();
    const yaml = `
redis: { url: "${redis.url}" }
routingGroups: [First, Second]   # labels only: no connector connects them, no sites
virtualServers:
  - { name: default, listen: "127.0.0.1:2525", fqdn: mail.ops.test }
connectors:
  - { name: Internet, smartHosts: ["[192.0.2.1]"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
  - { name: Backup, smartHosts: ["[192.0.2.2]"], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 2 }] }
`;
    file = join(mkdtempSync(join(tmpdir(), 'mailbus-ops-')), 'mailbus.yaml');
    writeFileSync(file, yaml);
    const r = parseConfig(yaml);
    assert.ok(r.ok);
    conn = createWorkerConnection({ url: redis.url });
    queue = new MailQueue(conn, r.config, 'test');
    for (let i = 0; i < 3; i++) {
      await queue.submit({
        id: newQueueId(),
        body: Buffer.from(`Subject: m${i}\r\n\r\nbody\r\n`),
        sender: 'a@sender.test',
        receivedAt: Date.now(),
        priority: 'normal',
        system: false,
        virtualServer: 'default',
        groups: [{ plan: ['Internet', 'Backup'], recipients: [{ address: `r${i}@far.test` }] }],
        trace: {},
        client: { ip: '127.0.0.1', helo: 'client.test', secure: false },
      });
    }
  });

  after(async () => {
    await queue?.close();
    conn?.disconnect();
    await redis?.close();
  });

  test('connector status shows every connector with its waiting count', async () => {
    const r = await mailbus(['connector', 'status', '--config', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as Array<{
      name: string;
      depth: { waiting: number };
      frozen: boolean;
    }>;
    assert.deepEqual(
      list.map((c) => c.name),
      ['Internet', 'Backup', '@local'],
    );
    assert.equal(list[0]?.depth.waiting, 3);
  });

  test('without routing groups as sites, connector status --json is the list of connector summaries it was before sites (DESIGN 5)', async () => {
    const r = await mailbus(['connector', 'status', '--config', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as unknown;
    assert.ok(Array.isArray(list), 'an array, not the grouped organisation');
    for (const c of list as Array<Record<string, unknown>>) {
      assert.deepEqual(Object.keys(c).sort(), CONNECTOR_SUMMARY_KEYS);
      assert.deepEqual(Object.keys(c.depth as object).sort(), CONNECTOR_DEPTH_KEYS);
    }
  });

  test('freeze stops delivery of a connector and unfreeze resumes it', async () => {
    assert.equal((await mailbus(['connector', 'freeze', 'Internet', '--config', file])).status, 0);
    let s = JSON.parse(
      (await mailbus(['connector', 'status', 'Internet', '--config', file, '--json'])).stdout,
    ) as Array<{ frozen: boolean }>;
    assert.equal(s[0]?.frozen, true);
    assert.equal(
      (await mailbus(['connector', 'unfreeze', 'Internet', '--config', file])).status,
      0,
    );
    s = JSON.parse(
      (await mailbus(['connector', 'status', 'Internet', '--config', file, '--json'])).stdout,
    ) as Array<{ frozen: boolean }>;
    assert.equal(s[0]?.frozen, false);
  });

  test('queue list, move, move-all and delete change what is queued where', async () => {
    const list = JSON.parse(
      (await mailbus(['queue', 'list', 'Internet', '--config', file, '--json'])).stdout,
    ) as Array<{ jobId: string; recipients: string[] }>;
    assert.equal(list.length, 3);
    const first = list[0]?.jobId as string;
    const moved = await mailbus([
      'queue',
      'move',
      'Internet',
      first,
      '--to',
      'Backup',
      '--config',
      file,
    ]);
    assert.equal(moved.status, 0, moved.stderr);
    const backup = JSON.parse(
      (await mailbus(['queue', 'list', 'Backup', '--config', file, '--json'])).stdout,
    ) as Array<{ jobId: string }>;
    assert.equal(backup.length, 1);
    const del = await mailbus([
      'queue',
      'delete',
      'Backup',
      backup[0]?.jobId as string,
      '--config',
      file,
    ]);
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stdout, /no DSN/);
    const all = await mailbus([
      'queue',
      'move-all',
      'Internet',
      '--to',
      'Backup',
      '--config',
      file,
    ]);
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stdout, /moved 2 messages/);
    const after = JSON.parse(
      (await mailbus(['connector', 'status', '--config', file, '--json'])).stdout,
    ) as Array<{ name: string; depth: { waiting: number } }>;
    assert.equal(after.find((c) => c.name === 'Internet')?.depth.waiting, 0);
    assert.equal(after.find((c) => c.name === 'Backup')?.depth.waiting, 2);
  });

  test('retry releases delayed mail of a connector at once', async () => {
    const q = queue.queues.queue('Backup');
    const jobs = await q.getJobs(['wait']);
    const data = jobs[0]?.data;
    assert.ok(data);
    // A job that already went round its plan once: waiting for a retry interval.
    await queue.queues.add('Backup', { ...data, round: 1 }, `${data.messageId}.9.9`, 3_600_000);
    assert.equal(await q.getDelayedCount(), 1);
    // One word per state, the same in the list, the status line and the metric.
    const retrying = await mailbus([
      'queue',
      'list',
      'Backup',
      '--state',
      'retrying',
      '--config',
      file,
    ]);
    assert.equal(retrying.status, 0, retrying.stderr);
    assert.match(
      retrying.stdout,
      new RegExp(`^${data.messageId}\\.9\\.9 +retrying from <a@sender\\.test> `, 'm'),
    );
    assert.doesNotMatch(retrying.stdout, /delayed\(/);
    const status = await mailbus(['connector', 'status', 'Backup', '--config', file]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(
      status.stdout,
      /^Backup +up +waiting \d+  delayed 0  retrying 1  held 0  active 0  failed 0  oldest /m,
    );
    const r = await mailbus(['connector', 'retry', 'Backup', '--config', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Backup: 1 message released/);
  });

  test('an unknown connector is a user error (exit 1) naming its code', async () => {
    const r = await mailbus(['connector', 'freeze', 'Nope', '--config', file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /MAILBUS_ERR_UNKNOWN_CONNECTOR/);
  });
});
