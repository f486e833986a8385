import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  waitFor,
} from '@mailbus/testing';
import { MailbusProcess } from './support/mailbus-process.js';
import { startCollector, type CollectedSpan } from './support/otlp-collector.js';

type LogLine = Record<string, unknown>;
const jsonLines = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
const queueIdOf = (response: string): string => /queued as ([0-9A-Z]+)$/.exec(response)?.[1] ?? '';

/**
 * What an operator sees of four messages through one real `mailbus start`: one that fails over
 * (its first connector's smart host refuses connections) and is then delivered, one that
 * bounces (the remote's 550 5.1.1 at RCPT), one that expires, and one that mailbus itself
 * refuses at RCPT (its only connector refuses the sender). Logs from its stdout, traces from an
 * OTLP/HTTP receiver in the test, metrics from /metrics, the protocol log from its files.
 */
describe('failover then delivered, bounced, expired, refused at RCPT: logs, traces, metrics, protocol log', () => {
  let redis: RedisServer;
  let sink: SinkServer;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let mailbus: MailbusProcess;
  let http: number;
  let logs: string;
  const ids = { failover: '', bounce: '', expire: '' };
  let refusal = '';

  before(async () => {
    redis = await RedisServer.start();
    sink = await SinkServer.start({
      onRcpt: (to) =>
        to.startsWith('nobody@') ? { code: 550, text: '5.1.1 User unknown' } : undefined,
    });
    collector = await startCollector();
    const smtp = await freePort();
    const dead = await freePort();
    http = await freePort();
    logs = mkdtempSync(join(tmpdir(), 'mailbus-journeys-'));
    mailbus = await MailbusProcess.start(
      `
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
  - name: edge
    listen: "127.0.0.1:${smtp}"
    fqdn: mx.journeys.test
    relay: { allow: [127.0.0.0/8] }
    protocolLog: { enabled: true, directory: "${logs}" }
connectors:
  - name: Primary
    smartHosts: ["[127.0.0.1]:${dead}"]
    bridgeheads: [edge]
    addressSpaces: [{ domain: "*", cost: 1 }]
    linkState: { failuresToMarkDown: 1000 }
  - name: Backup
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [edge]
    addressSpaces: [{ domain: "*", cost: 2 }]
  - name: Doomed
    smartHosts: ["[127.0.0.1]:${dead}"]
    bridgeheads: [edge]
    addressSpaces: [{ domain: doomed.example, cost: 1 }]
    retry: { intervals: [1s], expireAfter: 3s, delayNotifyAfter: 2s }
    linkState: { failuresToMarkDown: 1000 }
  - name: Closed
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [edge]
    addressSpaces: [{ domain: refused.example, cost: 1 }]
    deliveryRestrictions: { reject: [alice@sender.test] }
`,
      {
        listening: [`127.0.0.1:${smtp}`],
        args: ['--role', 'ingress,bridgehead', '--http-listen', `127.0.0.1:${http}`],
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
      },
    );
    const send = async (to: string) =>
      queueIdOf(
        (
          await sendMail({
            port: smtp,
            from: 'alice@sender.test',
            to: [to],
            raw: makeMessage({ from: 'alice@sender.test', to }),
          })
        ).response,
      );
    ids.failover = await send('bob@remote.example');
    ids.bounce = await send('nobody@remote.example');
    ids.expire = await send('carol@doomed.example');
    refusal = await sendMail({
      port: smtp,
      from: 'alice@sender.test',
      to: ['dave@refused.example'],
      raw: makeMessage({ from: 'alice@sender.test', to: 'dave@refused.example' }),
    }).then(
      () => 'accepted',
      (err: unknown) => String((err as { response?: string }).response ?? err),
    );
    await waitFor(
      () => {
        const msgs = jsonLines(mailbus.output).map(
          (l) => `${String(l['queue_id'])} ${String(l['msg'])}`,
        );
        return (
          msgs.includes(`${ids.failover} sent`) &&
          msgs.includes(`${ids.bounce} bounced`) &&
          msgs.includes(`${ids.expire} expired`)
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `the three outcomes (output: ${mailbus.output})`,
      },
    );
  });

  after(async () => {
    await mailbus?.close();
    await new Promise<void>((r) => (collector ? collector.server.close(() => r()) : r()));
    await sink?.close();
    await redis?.close();
    if (logs) rmSync(logs, { recursive: true, force: true });
  });

  const lineFor = (id: string, msg: string): LogLine | undefined =>
    jsonLines(mailbus.output).find((l) => l['queue_id'] === id && l['msg'] === msg);

  test('the failover message: a failover line on Primary (connection refused), then a sent line on Backup', () => {
    const failover = lineFor(ids.failover, 'failover');
    assert.equal(failover?.['category'], 'delivery');
    assert.equal(failover?.['connector'], 'Primary');
    assert.equal(failover?.['status'], 'failover');
    assert.deepEqual(failover?.['to'], ['bob@remote.example']);
    assert.match(String(failover?.['relay']), /^127\.0\.0\.1\[127\.0\.0\.1\]:\d+$/);
    const sent = lineFor(ids.failover, 'sent');
    assert.equal(sent?.['connector'], 'Backup');
    assert.equal(sent?.['dsn'], '2.0.0');
    assert.match(String(sent?.['reply']), /^250 /);
    assert.match(String(sent?.['delays']), /^[\d.]+\/[\d.]+\/[\d.]+$/);
    assert.match(String(sent?.['trace_id']), /^[0-9a-f]{32}$/);
  });

  test('the bounce and the expiry each write their line with the DSN code and the reply', () => {
    const bounced = lineFor(ids.bounce, 'bounced');
    assert.equal(bounced?.['dsn'], '5.1.1');
    assert.match(String(bounced?.['reply']), /^550 5\.1\.1 /);
    const expired = lineFor(ids.expire, 'expired');
    assert.equal(expired?.['connector'], 'Doomed');
    assert.equal(expired?.['status'], 'expired');
  });

  test('the failover message is one trace: SERVER receive, route, enqueue, two attempts (failover then delivered), CLIENT sends', async () => {
    const spans = await waitFor(
      () => {
        const receive = collector.spans.find(
          (s) => s.name === 'smtp.receive' && s.attributes['mailbus.queue_id'] === ids.failover,
        );
        if (!receive) return undefined;
        const tree = collector.spans.filter((s) => s.traceId === receive.traceId);
        return tree.filter((s) => s.name === 'delivery.attempt').length >= 2 ? tree : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the whole trace at the collector' },
    );
    const by = (name: string): CollectedSpan[] => spans.filter((s) => s.name === name);
    const [receive] = by('smtp.receive');
    assert.equal(receive?.kind, 2, 'smtp.receive is SERVER');
    for (const name of ['mailbus.route', 'queue.enqueue'])
      assert.equal(by(name)[0]?.parentSpanId, receive?.spanId, `${name} under smtp.receive`);
    const attempts = by('delivery.attempt').sort(
      (a, b) => Number(a.attributes['mailbus.attempt']) - Number(b.attributes['mailbus.attempt']),
    );
    const [first, second] = attempts;
    assert.equal(first?.parentSpanId, receive?.spanId);
    assert.equal(second?.parentSpanId, receive?.spanId);
    assert.deepEqual(
      [first?.attributes['mailbus.connector'], first?.attributes['mailbus.outcome'], first?.status],
      ['Primary', 'failover', 2],
    );
    assert.deepEqual(
      [
        second?.attributes['mailbus.connector'],
        second?.attributes['mailbus.outcome'],
        second?.attributes['mailbus.failover'],
        second?.attributes['mailbus.failover_from'],
        second?.attributes['mailbus.delivered_count'],
      ],
      ['Backup', 'delivered', true, 'Primary', 1],
    );
    assert.ok(String(second?.attributes['mailbus.job_id']).length > 0);
    const sends = by('smtp.send');
    assert.equal(sends.length, 2);
    for (const s of sends) assert.equal(s.kind, 3, 'smtp.send is CLIENT');
    const failed = sends.find((s) => s.parentSpanId === first?.spanId);
    assert.equal(failed?.status, 2, 'the refused connection ends its send span in ERROR');
    const ok = sends.find((s) => s.parentSpanId === second?.spanId);
    assert.equal(ok?.attributes['mailbus.reply_code'], 250);
  });

  test('the bounce DSN is a dsn.send span inside the bounced message trace', async () => {
    const dsn = await waitFor(
      () =>
        collector.spans.find(
          (s) => s.name === 'dsn.send' && s.attributes['mailbus.queue_id'] === ids.bounce,
        ),
      { timeoutMs: 20_000, intervalMs: 100, what: 'the dsn.send span' },
    );
    assert.equal(dsn.attributes['mailbus.dsn_kind'], 'failure');
    const receive = collector.spans.find(
      (s) => s.name === 'smtp.receive' && s.attributes['mailbus.queue_id'] === ids.bounce,
    );
    assert.equal(dsn.traceId, receive?.traceId);
  });

  test('the refusal at RCPT: the client gets 550 5.7.1 and the log line names client, HELO, sender, recipient and reply', () => {
    assert.match(refusal, /^550 5\.7\.1 /);
    const line = jsonLines(mailbus.output).find(
      (l) => l['msg'] === 'rejected' && l['recipient'] === 'dave@refused.example',
    );
    assert.ok(line, `a rejected line (output: ${mailbus.output})`);
    assert.equal(line['category'], 'smtp');
    assert.equal(line['command'], 'RCPT');
    assert.equal(line['client_ip'], '127.0.0.1');
    assert.equal(line['sender'], 'alice@sender.test');
    assert.equal(line['dsn'], '5.7.1');
    assert.equal(line['status'], 'rejected');
    assert.ok(typeof line['helo'] === 'string' && line['helo'] !== '');
    assert.match(String(line['reply']), /^550 5\.7\.1 /);
    // Refused before DATA: no message, so no queue id and no trace of its own (as Postfix's NOQUEUE).
    assert.equal(line['queue_id'], undefined);
    assert.ok(
      !collector.spans.some((s) =>
        Object.values(s.attributes).some((v) => String(v).includes('dave@refused.example')),
      ),
      'no span for a message that was never accepted',
    );
  });

  test('the metrics count each outcome on its connector', async () => {
    const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    const value = (metric: string, labels: string): number =>
      [...text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\d+)$`, 'gm'))]
        .filter((m) => labels.split(',').every((l) => m[1]?.includes(l)))
        .reduce((n, m) => n + Number(m[2]), 0);
    assert.ok(value('mailbus_failovers_total', 'from="Primary",to="Backup"') >= 2, 'two failovers');
    // The failover message, and the DSNs to alice (which take the same way out).
    assert.ok(value('mailbus_messages_delivered_total', 'connector="Backup"') >= 2);
    assert.equal(value('mailbus_messages_bounced_total', 'connector="Backup"'), 1, 'the 550');
    assert.equal(value('mailbus_messages_bounced_total', 'connector="Doomed"'), 1, 'the expiry');
    assert.equal(value('mailbus_messages_accepted_total', 'virtual_server="edge"'), 3);
    assert.ok(value('mailbus_messages_rejected_total', 'code="550",enhanced="5.7.1"') >= 1);
    assert.ok(
      value('mailbus_smtp_replies_total', 'virtual_server="edge",code="550",enhanced="5.7.1"') >= 1,
    );
  });

  test('the protocol log has the refused connection, the 550 and the 250 in IIS form', () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(join(d, e.name));
        else files.push(join(d, e.name));
    };
    walk(logs);
    const text = files.map((f) => readFileSync(f, 'utf8')).join('');
    const rows = text.split('\r\n').filter((l) => l && !l.startsWith('#'));
    const responses = rows.filter((r) => r.includes(' OutboundConnectionResponse '));
    assert.ok(
      responses.some((r) => / - connection\+failed:\S+ 0 /.test(r)),
      'refused connection',
    );
    assert.ok(
      responses.some((r) => / 550 /.test(r)),
      'the 550 reply',
    );
    assert.ok(
      responses.some((r) => / 250 /.test(r)),
      'a 250 reply',
    );
    const inbound = rows.filter((r) => / DATA <[^>]+> 250 /.test(r));
    assert.equal(inbound.length, 3, 'one inbound DATA line per message, with its Message-ID');
    assert.ok(
      rows.some((r) => / RCPT TO:<dave@refused\.example> 550 /.test(r)),
      'the refused RCPT, on its line with its status',
    );
  });
});
