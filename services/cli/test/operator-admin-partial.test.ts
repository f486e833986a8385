import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '@mailbus/config';
import {
  createWorkerConnection,
  MailQueue,
  redisTargetOf,
  type DeliveryJobData,
} from '@mailbus/queue';
import { freePort, RedisServer, waitFor } from '@mailbus/testing';
import { MailbusProcess, workDir } from './mailbus-process.js';

interface Summary {
  name: string;
  depth: Record<string, number>;
  partial: boolean;
}

test(
  'GET /api/connectors reads at most 10,000 jobs per state: past that it says "partial": true and counts the unread delayed jobs as delayed',
  { timeout: 180_000 },
  async () => {
    const redis = await RedisServer.start();
    const http = await freePort();
    const yaml = `
redis: { url: "${redis.url}" }
admin: { listen: "127.0.0.1:${http}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - { name: default, listen: "127.0.0.1:2525", fqdn: mail.partial.test }
connectors:
  - { name: Big, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [default], addressSpaces: [{ domain: big.test }] }
  - { name: Small, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [default], addressSpaces: [{ domain: small.test }] }
`;
    const parsed = parseConfig(yaml);
    assert.ok(parsed.ok);
    // 10,001 delayed jobs on Big and one on Small, written as the ingress writes them.
    const client = createWorkerConnection(redisTargetOf(parsed.config.redis));
    const queue = new MailQueue(client, parsed.config, 'test');
    const now = Date.now();
    const job = (i: number, connector: string) => {
      const data: DeliveryJobData = {
        v: 1,
        messageId: `PARTIAL${i}`,
        sender: 'a@sender.test',
        recipients: [{ address: `r${i}@${connector.toLowerCase()}.test` }],
        size: 100,
        receivedAt: now,
        priority: 'normal',
        system: false,
        virtualServer: 'default',
        plan: [connector],
        planIndex: 0,
        round: 0,
        branch: 0,
        hop: 0,
        attempts: [],
        client: { ip: '127.0.0.1', helo: 'filler.test', secure: false },
        trace: {},
      };
      return { name: 'deliver', data, opts: { jobId: `PARTIAL${i}.0.0`, delay: 3_600_000 } };
    };
    const [big] = queue.queues.all('Big');
    const [small] = queue.queues.all('Small');
    assert.ok(big && small);
    for (let from = 0; from < 10_001; from += 2_000)
      await big.addBulk(
        Array.from({ length: Math.min(2_000, 10_001 - from) }, (_, k) => job(from + k, 'Big')),
      );
    await small.addBulk([job(10_001, 'Small')]);
    await queue.close();
    client.disconnect();

    const { dir, config } = workDir(yaml);
    const admin = MailbusProcess.spawn(['start', '--config', config, '--role', 'admin'], {
      cwd: dir,
      env: { MAILBUS_TEST_TOKEN: 'secret' },
    });
    try {
      const summaries = await waitFor(
        async () => {
          const r = await fetch(`http://127.0.0.1:${http}/api/connectors`, {
            headers: { authorization: 'Bearer secret' },
          }).catch(() => undefined);
          return r?.ok ? ((await r.json()) as { connectors: Summary[] }).connectors : undefined;
        },
        { timeoutMs: 60_000, what: () => `the admin API answers:\n${admin.output}` },
      );
      const byName = new Map(summaries.map((s) => [s.name, s]));
      assert.equal(byName.get('Big')?.depth['delayed'], 10_001);
      assert.equal(byName.get('Big')?.partial, true);
      assert.equal(byName.get('Small')?.depth['delayed'], 1);
      assert.equal(byName.get('Small')?.partial, false);
    } finally {
      await admin.stop();
      await redis.close();
    }
  },
);
