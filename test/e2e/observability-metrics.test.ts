import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, sendMail, SmtpDialog, waitFor, type SinkServer } from '@mailbus/testing';
import { queueSamples } from '@mailbus/admin';
import { QueueOperations } from '@mailbus/queue';
import type { Gateway } from '@mailbus/cli';
import { GatewayFixture } from './support/gateway-fixture.js';
import { sample } from './support/metric-sample.js';

describe('Prometheus metrics after real traffic', () => {
  let f: GatewayFixture<'sink', 'smtp'>;
  let sink: SinkServer;
  let gateway: Gateway;
  let smtp: number;
  let text: string;

  before(async () => {
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      ports: ['smtp'],
      config: ({ redis, sinks: { sink }, ports }) => `
redis: { url: "${redis.url}", prefix: "met${process.pid}", commandTimeout: 1s }
virtualServers:
  - name: open
    listen: 127.0.0.1:${ports.smtp}
    fqdn: mx.metrics.test
    maxHops: 2
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Out
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: out.example }]
  - name: Held
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: held.example }]
    delivery: { schedule: never }
`,
    });
    ({
      sinks: { sink },
      ports: { smtp },
      gateway,
    } = f);
    // The node's queue collector, as the admin service wires it.
    const ops = new QueueOperations(f.queue);
    gateway.metrics.setQueueCollector(async () => queueSamples(await ops.connectors(Date.now())));

    // Two accepted: one delivered through Out, one waiting on Held's closed schedule.
    await sendMail({
      port: smtp,
      from: 'a@sender.test',
      to: ['b@out.example'],
      raw: makeMessage({ from: 'a@sender.test', to: 'b@out.example' }),
    });
    await sendMail({
      port: smtp,
      from: 'a@sender.test',
      to: ['c@held.example'],
      raw: makeMessage({ from: 'a@sender.test', to: 'c@held.example' }),
    });
    // One rejected after DATA: more Received headers than maxHops (554 5.4.6).
    const hops = 'Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n'.repeat(3);
    await assert.rejects(
      sendMail({
        port: smtp,
        from: 'a@sender.test',
        to: ['b@out.example'],
        raw: hops + makeMessage({ from: 'a@sender.test', to: 'b@out.example' }),
      }),
      (e: { responseCode?: number }) => e.responseCode === 554,
    );
    await sink.waitForMessages(1, 20_000);
    await waitFor(
      async () =>
        sample(await gateway.metrics.render(), 'mailbus_messages_delivered_total', {
          connector: 'Out',
        }) === 1,
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'the delivered counter',
      },
    );
    await waitFor(
      async () =>
        (await ops.connectors(Date.now())).some((c) => c.name === 'Held' && c.depth.delayed === 1),
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'the Held job delayed by its schedule',
      },
    );
    // The queue collector's samples are cached for a second: wait until the rendered text
    // shows the Held job, which the assertions below read from it.
    text = await waitFor(
      async () => {
        const t = await gateway.metrics.render();
        return sample(t, 'mailbus_queue_depth', { connector: 'Held', state: 'delayed' }) === 1
          ? t
          : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100, what: 'the Held job in the queue depth gauge' },
    );
  });

  after(() => f?.close());

  test('accepted counts per virtual server the messages answered 250 after DATA', () => {
    assert.equal(sample(text, 'mailbus_messages_accepted_total', { virtual_server: 'open' }), 2);
  });

  test('rejected counts a refused message by reply code and enhanced code', () => {
    assert.equal(
      sample(text, 'mailbus_messages_rejected_total', { code: '554', enhanced: '5.4.6' }),
      1,
    );
  });

  test('delivered counts recipients per connector, and the latency histogram observed them', () => {
    assert.equal(sample(text, 'mailbus_messages_delivered_total', { connector: 'Out' }), 1);
    assert.equal(sample(text, 'mailbus_delivery_latency_seconds_count', { connector: 'Out' }), 1);
    assert.equal(
      sample(text, 'mailbus_delivery_latency_seconds_bucket', { connector: 'Out', le: '+Inf' }),
      1,
    );
    assert.ok(
      (sample(text, 'mailbus_delivery_latency_seconds_sum', { connector: 'Out' }) ?? -1) >= 0,
    );
  });

  test('queue depth per connector and state, and the oldest age, come from the queue collector at scrape time', () => {
    assert.equal(sample(text, 'mailbus_queue_depth', { connector: 'Held', state: 'delayed' }), 1);
    assert.equal(sample(text, 'mailbus_queue_depth', { connector: 'Out', state: 'waiting' }), 0);
    assert.ok((sample(text, 'mailbus_queue_oldest_age_seconds', { connector: 'Held' }) ?? -1) >= 0);
    assert.equal(sample(text, 'mailbus_connector_up', { connector: 'Out' }), 1);
  });

  test('no session is left counted open once the clients quit', async () => {
    await waitFor(
      async () =>
        sample(await gateway.metrics.render(), 'mailbus_smtp_sessions_open', {
          virtual_server: 'open',
        }) === 0,
      {
        timeoutMs: 5000,
        intervalMs: 50,
        what: 'sessions to close',
      },
    );
    const { dialog } = await SmtpDialog.open(smtp);
    assert.equal(
      sample(await gateway.metrics.render(), 'mailbus_smtp_sessions_open', {
        virtual_server: 'open',
      }),
      1,
    );
    await dialog.quit();
  });

  test('a recipient refused at RCPT (550 5.4.4, no route) is counted as rejected by its code', async () => {
    const strictTo = 'victim@nowhere.example';
    const { dialog } = await SmtpDialog.open(smtp);
    await dialog.send('EHLO client.test');
    await dialog.send('MAIL FROM:<a@sender.test>');
    const r = await dialog.send(`RCPT TO:<${strictTo}>`);
    assert.equal(r.code, 550);
    await dialog.quit();
    const enhanced = /^550 (\d\.\d\.\d)/.exec(r.lines[0] ?? '')?.[1] ?? '';
    assert.equal(
      sample(await gateway.metrics.render(), 'mailbus_messages_rejected_total', {
        code: '550',
        enhanced,
      }),
      1,
      'RCPT rejections are counted too',
    );
  });
});

describe('every reply the ingress sends is counted, its own refusals and smtp-server’s alike', () => {
  let f: GatewayFixture<never, 'smtp'>;
  let gateway: Gateway;
  let smtp: number;

  before(async () => {
    f = await GatewayFixture.start({
      ports: ['smtp'],
      config: ({ redis, ports }) => `
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
  - { name: small, listen: "127.0.0.1:${ports.smtp}", fqdn: mx.small.test, maxMessageSizeKB: 10, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Out, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [small], addressSpaces: [{ domain: "*" }] }
`,
    });
    ({
      ports: { smtp },
      gateway,
    } = f);
  });

  after(() => f?.close());

  test('552 5.3.4 for SIZE= at MAIL and a 5xx for a bad command are counted as rejections; 250s and 221 as replies', async () => {
    const { dialog } = await SmtpDialog.open(smtp);
    assert.equal((await dialog.send('EHLO client.test')).code, 250);
    const big = await dialog.send('MAIL FROM:<a@sender.test> SIZE=999999');
    assert.equal(big.code, 552);
    const bad = await dialog.send('BOGUS');
    assert.ok(bad.code >= 500 && bad.code < 600, `BOGUS answered ${bad.code}`);
    await dialog.quit();
    const text = await gateway.metrics.render();
    const bigEnhanced = /^552 (\d\.\d\.\d+)/.exec(big.lines[0] ?? '')?.[1] ?? '';
    assert.equal(bigEnhanced, '5.3.4');
    assert.equal(
      sample(text, 'mailbus_messages_rejected_total', { code: '552', enhanced: '5.3.4' }),
      1,
    );
    assert.equal(
      sample(text, 'mailbus_messages_rejected_total', {
        code: String(bad.code),
        enhanced: /^\d{3} (\d\.\d\.\d+)/.exec(bad.lines[0] ?? '')?.[1] ?? '',
      }),
      1,
    );
    const replies = (code: string) =>
      [...text.matchAll(/^mailbus_smtp_replies_total\{([^}]*)\} (\d+)$/gm)]
        .filter((m) => m[1]?.includes(`virtual_server="small"`) && m[1].includes(`code="${code}"`))
        .reduce((n, m) => n + Number(m[2]), 0);
    assert.equal(replies('250'), 1, 'the EHLO');
    assert.equal(replies('552'), 1);
    assert.equal(replies('221'), 1, 'the QUIT');
  });
});
