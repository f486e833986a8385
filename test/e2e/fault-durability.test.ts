import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseConfig, type Config } from '@mailbus/config';
import { SmtpIngress } from '@mailbus/ingress';
import { createProducerConnection, MailQueue } from '@mailbus/queue';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SmtpDialog,
  waitFor,
} from '@mailbus/testing';
import { Gateway } from '@mailbus/cli';
import { GatewayFixture } from './support/gateway-fixture.js';
import { startGateway } from './support/start-gateway.js';

const yaml = (url: string, port: number, durability = 'fsync', commandTimeout = '1s') => `
organization: Test
redis: { url: "${url}", durability: ${durability}, commandTimeout: ${commandTimeout} }
virtualServers:
  - name: mx
    listen: 127.0.0.1:${port}
    fqdn: mx.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Alpha
    smartHosts: ["[127.0.0.1]:9"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: a.example }]
`;

const send = (port: number, subject: string) =>
  sendMail({
    port,
    from: 'a@sender.test',
    to: ['b@a.example'],
    raw: makeMessage({ from: 'a@sender.test', to: 'b@a.example', subject }),
  });

describe('durability: 250 only when Redis can make the message durable at the configured level', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  const refusals: Array<{
    name: string;
    options: ConstructorParameters<typeof Object>[0];
    durability: string;
    message: RegExp;
  }> = [
    {
      name: 'fsync on a Redis without AOF',
      options: { aof: false },
      durability: 'fsync',
      message: /redis\.durability is fsync but appendonly is "no" \(set appendonly yes/,
    },
    {
      name: 'fsync on appendfsync everysec without WAITAOF (Redis < 7.2)',
      options: { args: ['--appendfsync', 'everysec'] },
      durability: 'fsync',
      message: /appendfsync is "everysec" .*(set appendfsync always|WAITAOF)/,
    },
    {
      name: 'any durability on maxmemory-policy allkeys-lru',
      options: { args: ['--maxmemory-policy', 'allkeys-lru'] },
      durability: 'memory',
      message: /maxmemory-policy is "allkeys-lru"; it must be "noeviction"/,
    },
    {
      name: 'replicated with no replica connected',
      options: {},
      durability: 'replicated',
      message: /durability is replicated but no replica is connected/,
    },
  ];
  for (const r of refusals) {
    test(`a node refuses to start for ${r.name}, naming the setting to change`, async (t) => {
      const redis = await RedisServer.start(r.options as object);
      cleanup.push(() => redis.close());
      const probe = redis.client();
      const v = await probe.info('server');
      probe.disconnect();
      if (r.name.includes('WAITAOF') && /redis_version:(7\.[2-9]|[89]\.)/.test(v))
        return t.skip('this Redis has WAITAOF');
      const parsed = parseConfig(yaml(redis.url, await freePort(), r.durability));
      if (!parsed.ok) throw new Error('bad config');
      const gw = new Gateway({
        config: parsed.config,
        roles: ['ingress'],
        env: {},
        logger: pino({ level: 'silent' }),
      });
      cleanup.push(() => gw.close());
      await assert.rejects(gw.start(), r.message);
    });
  }

  test('replicated: 250 while a replica acknowledges, 451 4.3.0 when it is gone, 250 again once it is back', async () => {
    const primary = await RedisServer.start();
    cleanup.push(() => primary.close());
    const replica = await RedisServer.start({
      args: ['--replicaof', '127.0.0.1', String(primary.port)],
    });
    cleanup.push(() => replica.close());
    const c = primary.client();
    cleanup.push(async () => c.disconnect());
    await waitFor(async () => /slave0:.*state=online/.test(await c.info('replication')), {
      // The first sync waits repl-diskless-sync-delay (5 s) before it starts.
      timeoutMs: 20_000,
      what: 'replica to attach',
    });
    const port = await freePort();
    // commandTimeout 3s: WAIT then gives a replica 2 s to acknowledge (0.75 s with 1s), which
    // a replica on a machine loaded by the rest of the suite sometimes needed.
    const gw: Gateway = await startGateway(yaml(primary.url, port, 'replicated', '3s'), [
      'ingress',
    ]);
    cleanup.push(() => gw.close());
    // Mail flows while the replica acknowledges. A replica that has just finished its
    // first sync may still miss one WAIT on a machine loaded by the rest of the suite;
    // the sender retries a 451, as SMTP clients do.
    const sendUntil250 = async (what: string): Promise<string> => {
      let response = '';
      await waitFor(
        async () => {
          response = await send(port, what).then(
            (r) => r.response,
            () => '',
          );
          return /^250 2\.0\.0 /.test(response);
        },
        { timeoutMs: 20_000, intervalMs: 500, what: `a 250 for "${what}"` },
      );
      return response;
    };
    assert.match(await sendUntil250('replicated one'), /^250 2\.0\.0 /);
    await replica.kill();
    await waitFor(async () => /connected_slaves:0/.test(await c.info('replication')), {
      timeoutMs: 10_000,
      what: 'replica to detach',
    });
    await assert.rejects(send(port, 'no replica'), (e: { response?: string }) => {
      assert.match(e.response ?? '', /^451 4\.3\.0 /);
      return true;
    });
    await replica.restart();
    const rc = replica.client();
    cleanup.push(async () => rc.disconnect());
    await waitFor(
      async () =>
        /slave0:.*state=online/.test(await c.info('replication')) &&
        /master_link_status:up/.test(await rc.info('replication')),
      {
        timeoutMs: 20_000,
        what: 'replica to resync',
      },
    );
    assert.match(await sendUntil250('replica back'), /^250 2\.0\.0 /);
  });
});

describe('back pressure: ingress pushes back with 452 4.3.1 and recovers by itself', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  test('Redis memory past 90% of maxmemory gets 452 4.3.1 at MAIL; raising maxmemory lets mail in again within seconds', async () => {
    const f = await GatewayFixture.start({
      ports: ['port'],
      roles: ['ingress'],
      config: ({ redis, ports }) => yaml(redis.url, ports.port),
    });
    cleanup.push(() => f.close());
    const {
      redis,
      ports: { port },
    } = f;
    const c = redis.client();
    cleanup.push(async () => c.disconnect());
    const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))?.[1]);
    await c.config('SET', 'maxmemory', String(Math.floor(used * 1.05)));
    const mail = async () => {
      const { dialog } = await SmtpDialog.open(port);
      await dialog.send('EHLO client.test');
      const r = await dialog.send('MAIL FROM:<a@sender.test>');
      await dialog.quit();
      return r.lines[0] ?? '';
    };
    await waitFor(async () => (await mail()).startsWith('452 4.3.1 '), {
      timeoutMs: 5000,
      intervalMs: 200,
      what: '452 4.3.1 under memory pressure',
    });
    await c.config('SET', 'maxmemory', '0');
    await waitFor(async () => (await mail()).startsWith('250 '), {
      timeoutMs: 5000,
      intervalMs: 200,
      what: 'recovery',
    });
  });

  test("a connector's waiting jobs past the limit get 452 4.3.1 at RCPT for that connector; draining the queue lets mail in again", async () => {
    const redis = await RedisServer.start();
    cleanup.push(() => redis.close());
    const port = await freePort();
    const parsed = parseConfig(yaml(redis.url, port));
    if (!parsed.ok) throw new Error('bad config');
    const config: Config = parsed.config;
    const conn = createProducerConnection({ url: redis.url }, 1000);
    // A fail-fast producer refuses commands until its ready check (INFO) is
    // answered: a message sent before then got 451 4.3.0 ("Stream isn't
    // writeable"), as happened under load. The gateway waits likewise.
    await waitFor(() => conn.status === 'ready', { what: 'the producer connection to be ready' });
    const queue = new MailQueue(conn, config, 'test');
    const vs = config.virtualServers[0];
    assert.ok(vs);
    const ingress = new SmtpIngress({
      config,
      virtualServer: vs,
      queue,
      logger: pino({ level: 'silent' }),
      downConnectors: () => new Set(),
      backPressure: { maxWaitingPerConnector: 3, sampleIntervalMs: 200 },
    });
    await ingress.listen('127.0.0.1', port);
    cleanup.push(async () => {
      await ingress.close();
      await queue.close();
      conn.disconnect();
    });
    for (let i = 0; i < 4; i++) await send(port, `fill ${i}`);
    const rcpt = async () => {
      const { dialog } = await SmtpDialog.open(port);
      await dialog.send('EHLO client.test');
      await dialog.send('MAIL FROM:<a@sender.test>');
      const r = await dialog.send('RCPT TO:<b@a.example>');
      await dialog.quit();
      return r.lines[0] ?? '';
    };
    await waitFor(
      async () => (await rcpt()) === '452 4.3.1 Queue of connector Alpha is full, try again later',
      { timeoutMs: 5000, intervalMs: 100, what: '452 4.3.1 for a full connector' },
    );
    await queue.queues.queue('Alpha').drain(true);
    await waitFor(async () => (await rcpt()).startsWith('250 '), {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'recovery after drain',
    });
  });
});
