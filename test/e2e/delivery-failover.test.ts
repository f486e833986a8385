import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, sendMail, SinkServer, waitFor } from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';
import type { Gateway } from '@mailbus/cli';
import { jobId } from '@mailbus/queue';
import { queuedId, queueOf } from './delivery-helpers.js';

describe('failover to the next-cost connector, link state, and back after recovery', () => {
  let f: GatewayFixture<'backup' | 'refusing421' | 'busy451', 'ingress' | 'closedPort'>;
  let backup: SinkServer;
  let refusing421: SinkServer;
  let busy451: SinkServer;
  let recovered: SinkServer | undefined;
  let gateway: Gateway;
  let ingress: number;
  let closedPort: number;

  before(async () => {
    f = await GatewayFixture.start({
      sinks: {
        backup: {},
        refusing421: {
          server: {
            onConnect(_session, cb) {
              cb(Object.assign(new Error('4.3.2 Service shutting down'), { responseCode: 421 }));
            },
          },
        },
        busy451: {
          // smtp-server puts its own enhanced code (4.3.0 after DATA) before the text.
          onData: () => ({ code: 451, text: 'Error: queue file write error' }),
        },
      },
      ports: ['ingress', 'closedPort'],
      config: (p) => `
organization: Test
redis: { url: "${p.redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${p.ports.ingress}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Cheap
    smartHosts: ["[127.0.0.1]:${p.ports.closedPort}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: example.net, cost: 1 }]
    linkState: { failuresToMarkDown: 2, downFor: 2s }
  - name: Flaky
    smartHosts: ["[127.0.0.1]:${p.sinks.refusing421.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: example.org, cost: 1 }]
  - name: Busy
    smartHosts: ["[127.0.0.1]:${p.sinks.busy451.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: example.com, cost: 1 }]
  - name: Backup
    smartHosts: ["[127.0.0.1]:${p.sinks.backup.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: example.net, cost: 2 }, { domain: example.org, cost: 2 }, { domain: example.com, cost: 2 }]
`,
    });
    ({
      sinks: { backup, refusing421, busy451 },
      ports: { ingress, closedPort },
      gateway,
    } = f);
  });

  after(async () => {
    await f?.close();
    await Promise.all([recovered].map((s) => s?.close()));
  });

  async function send(to: string, subject: string): Promise<string> {
    const r = await sendMail({
      port: ingress,
      from: 'alice@sender.test',
      to: [to],
      raw: makeMessage({ from: 'alice@sender.test', to, subject }),
    });
    return queuedId(r.response);
  }

  const at = (sink: SinkServer, subject: string) =>
    sink.messages.filter((m) => m.raw.includes(`Subject: ${subject}\r\n`)).length;

  test('fails over to the cost-2 connector when the cost-1 smart host refuses connections', async () => {
    const id = await send('bob@example.net', 'refused-1');
    await waitFor(() => at(backup, 'refused-1') === 1, {
      timeoutMs: 15_000,
      what: 'refused-1 at the cost-2 sink',
    });
    const events = await queueOf(gateway).tracking.history(id);
    const failover = events.find((e) => e.type === 'failover');
    assert.ok(failover, 'a failover event is tracked');
    assert.equal(failover.connector, 'Backup');
    assert.match(failover.reply ?? '', /^451 4\.4\.1 .*ECONNREFUSED/);
  });

  test('fails over when the cost-1 smart host greets with 421', async () => {
    await send('carol@example.org', 'greeting-421');
    await waitFor(() => at(backup, 'greeting-421') === 1, {
      timeoutMs: 15_000,
      what: 'greeting-421 at the cost-2 sink',
    });
    assert.equal(refusing421.messages.length, 0);
  });

  test('fails over when the cost-1 smart host answers 451 after DATA, and the message is delivered once', async () => {
    const id = await send('dave@example.com', 'data-451');
    await waitFor(() => at(backup, 'data-451') === 1, {
      timeoutMs: 15_000,
      what: 'data-451 at the cost-2 sink',
    });
    const events = await queueOf(gateway).tracking.history(id);
    assert.match(
      events.find((e) => e.type === 'failover')?.reply ?? '',
      /^451 4\.3\.0 Error: queue file write error/,
    );
    assert.equal(busy451.messages.length, 0);
  });

  test('two connection failures mark the connector down, with since and the last error, visible in link status', async () => {
    await send('erin@example.net', 'refused-2');
    await waitFor(() => at(backup, 'refused-2') === 1, {
      timeoutMs: 15_000,
      what: 'refused-2 at the cost-2 sink',
    });
    const s = await queueOf(gateway).links.status('Cheap', Date.now());
    assert.equal(s.state, 'down');
    assert.equal(s.consecutiveFailures, 2);
    assert.ok(s.since !== null && s.since <= Date.now());
    assert.ok(s.downUntil !== null && s.downUntil > Date.now() && s.downUntil <= Date.now() + 2000);
    assert.match(s.lastError ?? '', /ECONNREFUSED/);
  });

  test('while the connector is down, ingress routes past it and its queued jobs fail over without trying it', async () => {
    const q = queueOf(gateway);
    // Routing uses the ingress's down set, refreshed every second: wait until it has Cheap.
    await waitFor(() => gateway.ingressNode?.downConnectors.has('Cheap'), {
      timeoutMs: 5000,
      what: "ingress's routing to see Cheap down",
    });
    const routed = await send('frank@example.net', 'while-down');
    // A job already queued on the down connector.
    const body = Buffer.from(
      makeMessage({
        from: 'alice@sender.test',
        to: 'gina@example.net',
        subject: 'queued-while-down',
      }),
    );
    const queuedOnDown = 'QUEUEDWHILEDOWN001';
    await q.submit({
      id: queuedOnDown,
      body,
      sender: 'alice@sender.test',
      receivedAt: Date.now(),
      priority: 'normal',
      system: false,
      virtualServer: 'hub',
      groups: [{ plan: ['Cheap', 'Backup'], recipients: [{ address: 'gina@example.net' }] }],
      trace: {},
      client: { ip: '127.0.0.1', helo: 'test', secure: false },
    });
    await waitFor(() => at(backup, 'while-down') === 1 && at(backup, 'queued-while-down') === 1, {
      timeoutMs: 10_000,
      what: 'both at the cost-2 sink',
    });
    for (const id of [routed, queuedOnDown]) {
      const events = await q.tracking.history(id);
      assert.ok(
        !events.some((e) => e.type === 'attempt' && e.connector === 'Cheap'),
        `${id}: no attempt on the down connector`,
      );
    }
    const s = await q.links.status('Cheap', Date.now());
    assert.equal(s.consecutiveFailures, 2, 'no new failure counted: it was not tried');
    assert.equal(jobId(queuedOnDown, 0, 0), `${queuedOnDown}.0.0`);
  });

  test('after the down interval a probe finds the recovered smart host, marks it up, and mail goes to cost 1 again', async () => {
    recovered = await SinkServer.start({ port: closedPort });
    const q = queueOf(gateway);
    await waitFor(async () => (await q.links.status('Cheap', Date.now())).state !== 'down', {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'the down interval to pass',
    });
    await waitFor(() => gateway.ingressNode?.downConnectors.has('Cheap') === false, {
      timeoutMs: 5000,
      what: "ingress's routing to see Cheap no longer down",
    });
    await send('hank@example.net', 'after-recovery');
    await waitFor(() => recovered !== undefined && at(recovered, 'after-recovery') === 1, {
      timeoutMs: 15_000,
      what: 'after-recovery at the cost-1 sink',
    });
    assert.equal(at(backup, 'after-recovery'), 0);
    // The sink has the message before the bridgehead has read its 250 and recorded the success.
    await waitFor(async () => (await q.links.status('Cheap', Date.now())).state === 'up', {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'the probe success recorded',
    });
    const s = await q.links.status('Cheap', Date.now());
    assert.equal(s.state, 'up');
    assert.equal(s.consecutiveFailures, 0);
    assert.equal(s.downUntil, null);
  });
});
