import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SinkServer } from '@mailbus/testing';
import { makeMessage, sendMail, SmtpDialog, waitFor } from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';
import type { Gateway } from '@mailbus/cli';
import { jobId } from '@mailbus/queue';
import { queuedId, queueOf } from './delivery-helpers.js';

describe('remote triggered delivery: ETRN (RFC 1985)', () => {
  let f: GatewayFixture<'sink', 'hub' | 'other'>;
  let sink: SinkServer;
  let gateway: Gateway;
  let hub: number;
  let other: number;

  before(async () => {
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      ports: ['hub', 'other'],
      config: (p) => `
organization: Test
redis: { url: "${p.redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${p.ports.hub}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8], etrn: [127.0.0.1/32] }
  - name: other
    listen: 127.0.0.1:${p.ports.other}
    fqdn: other.mailbus.test
    relay: { allow: [127.0.0.0/8], etrn: [192.0.2.0/24] }
connectors:
  - name: Dialup
    smartHosts: ["[127.0.0.1]:${p.sinks.sink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: example.net }, { domain: example.org }]
    delivery: { remoteTriggered: true }
`,
    });
    ({
      sinks: { sink },
      ports: { hub, other },
      gateway,
    } = f);
  });

  after(() => f?.close());

  async function send(to: string, subject: string): Promise<string> {
    const r = await sendMail({
      port: hub,
      from: 'alice@sender.test',
      to: [to],
      raw: makeMessage({ from: 'alice@sender.test', to, subject }),
    });
    return queuedId(r.response);
  }
  const has = (subject: string) =>
    sink.messages.some((m) => m.raw.includes(`Subject: ${subject}\r\n`));
  async function etrn(port: number, arg: string): Promise<string> {
    const { dialog } = await SmtpDialog.open(port);
    await dialog.send('EHLO client.test');
    const r = await dialog.send(`ETRN ${arg}`);
    await dialog.quit();
    return r.lines[0] ?? '';
  }

  const ids: string[] = [];

  test('a remote-triggered connector holds its mail as delayed jobs', async () => {
    ids.push(
      await send('a@example.net', 'held-net-1'),
      await send('b@example.net', 'held-net-2'),
      await send('c@example.org', 'held-org'),
    );
    const q = queueOf(gateway).queues.queue('Dialup');
    for (const id of ids) {
      const job = await q.getJob(jobId(id, 0, 0));
      assert.equal(await job?.getState(), 'delayed');
      // Held until its expiry (2 days by default), not due in a moment.
      assert.ok((job?.delay ?? 0) > 3_600_000, `held for ${job?.delay} ms`);
    }
    assert.equal(sink.messages.length, 0);
  });

  test('ETRN <domain> from an allowed client gets 250 and releases that domain’s held mail, and only that', async () => {
    const r = await etrn(hub, 'example.net');
    assert.match(r, /^250 2\.0\.0 Queuing for node example\.net started \(2 messages\)$/);
    await waitFor(() => has('held-net-1') && has('held-net-2'), {
      timeoutMs: 10_000,
      what: 'the example.net mail',
    });
    assert.ok(!has('held-org'), 'example.org stays held');
    assert.equal(
      await (
        await queueOf(gateway)
          .queues.queue('Dialup')
          .getJob(jobId(ids[2] ?? '', 0, 0))
      )?.getState(),
      'delayed',
    );
  });

  test('ETRN for a served domain with nothing waiting gets 251', async () => {
    assert.match(await etrn(hub, 'example.net'), /^251 /);
  });

  test('ETRN from a client not in relay.etrn gets 458 and releases nothing', async () => {
    assert.match(await etrn(other, 'example.org'), /^458 /);
    // Still a delayed job: a release would have moved it before the reply.
    const job = await queueOf(gateway)
      .queues.queue('Dialup')
      .getJob(jobId(ids[2] ?? '', 0, 0));
    assert.equal(await job?.getState(), 'delayed');
    assert.ok(!has('held-org'));
  });

  test('ETRN for a domain no remote-triggered connector serves gets 459', async () => {
    assert.match(await etrn(hub, 'unknown.example'), /^459 /);
  });

  test('ETRN without a valid domain gets 501', async () => {
    assert.match(await etrn(hub, ''), /^501 /);
  });

  test('ETRN @domain releases the domain’s held mail too', async () => {
    assert.match(await etrn(hub, '@example.org'), /^250 /);
    await waitFor(() => has('held-org'), { timeoutMs: 10_000, what: 'the example.org mail' });
  });
});
