import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCollector } from './support/otlp-collector.js';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  waitFor,
} from '@mailbus/testing';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = resolve(here, '../../../services/cli/dist/src/main.js');

/** `mailbus start --role <role>` as its own process; resolves once it printed that it runs. */
async function startRole(
  role: string,
  configFile: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [MAIN, 'start', '--config', configFile, '--role', role], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(() => output.includes('mailbus running') || child.exitCode !== null, {
    timeoutMs: 20_000,
    intervalMs: 50,
    what: `mailbus start --role ${role}`,
  });
  assert.equal(child.exitCode, null, `--role ${role} exited: ${output}`);
  return { child, output: () => output };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

describe('one trace per message across two processes: ingress and bridgehead', () => {
  let redis: RedisServer;
  let sink: SinkServer;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let ingress: Awaited<ReturnType<typeof startRole>> | undefined;
  let bridgehead: Awaited<ReturnType<typeof startRole>> | undefined;
  let dir: string;
  let queueId: string;
  let smtp: number;

  before(async () => {
    redis = await RedisServer.start();
    sink = await SinkServer.start();
    collector = await startCollector();
    smtp = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'mailbus-trace-'));
    const configFile = join(dir, 'mailbus.yaml');
    writeFileSync(
      configFile,
      `
redis: { url: "${redis.url}", commandTimeout: 1s }
logging: { level: warn }
virtualServers:
  - name: open
    listen: 127.0.0.1:${smtp}
    fqdn: mx.trace.test
    maxHops: 2
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Out
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: "*" }]
`,
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Export each batch at once rather than every 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    bridgehead = await startRole('bridgehead', configFile, env);
    ingress = await startRole('ingress', configFile, env);
    const raw = makeMessage({
      from: 'alice@sender.test',
      to: 'bob@remote.example',
      subject: 'traced',
    });
    const r = await sendMail({
      port: smtp,
      from: 'alice@sender.test',
      to: ['bob@remote.example'],
      raw,
    });
    queueId = /queued as ([0-9A-Z]+)$/.exec(r.response)?.[1] ?? '';
    await sink.waitForMessages(1, 20_000);
    await waitFor(
      () =>
        collector.spans.some(
          (s) => s.name === 'smtp.receive' && s.attributes['mailbus.queue_id'] === queueId,
        ) &&
        collector.spans.some(
          (s) => s.name === 'delivery.attempt' && s.attributes['mailbus.queue_id'] === queueId,
        ),
      { timeoutMs: 20_000, intervalMs: 100, what: 'both spans at the collector' },
    );
  });

  after(async () => {
    await Promise.all([stop(ingress?.child), stop(bridgehead?.child)]);
    await new Promise<void>((r) => (collector ? collector.server.close(() => r()) : r()));
    await sink?.close();
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the spans reach an OTLP/HTTP collector as JSON on /v1/traces, one service.name per process', () => {
    assert.ok(
      [...collector.contentTypes].every((t) => t.startsWith('application/json')),
      [...collector.contentTypes].join(),
    );
    const receive = collector.spans.find((s) => s.name === 'smtp.receive');
    const attempt = collector.spans.find((s) => s.name === 'delivery.attempt');
    assert.equal(receive?.service, 'mailbus-ingress');
    assert.equal(attempt?.service, 'mailbus-bridgehead');
  });

  test('the bridgehead delivery span is a child of the ingress span: one trace id, parent = the ingress span', () => {
    const receive = collector.spans.find(
      (s) => s.name === 'smtp.receive' && s.attributes['mailbus.queue_id'] === queueId,
    );
    const attempts = collector.spans.filter(
      (s) => s.name === 'delivery.attempt' && s.attributes['mailbus.queue_id'] === queueId,
    );
    assert.ok(receive);
    assert.equal(attempts.length, 1);
    const [attempt] = attempts;
    assert.match(receive.traceId, /^[0-9a-f]{32}$/);
    assert.equal(attempt?.traceId, receive.traceId);
    assert.equal(attempt?.parentSpanId, receive.spanId);
    assert.equal(receive.parentSpanId, '', 'the ingress span is the root of the trace');
    // Routing and the Redis writes are the receive span's children.
    for (const name of ['mailbus.route', 'queue.enqueue']) {
      const child = collector.spans.find(
        (s) => s.name === name && s.attributes['mailbus.queue_id'] === queueId,
      );
      assert.equal(child?.parentSpanId, receive.spanId, `${name} under smtp.receive`);
      assert.equal(child?.traceId, receive.traceId);
    }
    const route = collector.spans.find(
      (s) => s.name === 'mailbus.route' && s.attributes['mailbus.queue_id'] === queueId,
    );
    assert.equal(route?.attributes['mailbus.connector'], 'Out');
    assert.equal(route?.attributes['mailbus.rejected_count'], 0);
  });

  test('the spans carry the message: sender, recipient count, size and reply on ingress; connector and outcome on delivery', () => {
    const receive = collector.spans.find(
      (s) => s.name === 'smtp.receive' && s.attributes['mailbus.queue_id'] === queueId,
    );
    const attempt = collector.spans.find(
      (s) => s.name === 'delivery.attempt' && s.attributes['mailbus.queue_id'] === queueId,
    );
    assert.equal(receive?.attributes['mailbus.sender'], 'alice@sender.test');
    assert.equal(receive?.attributes['mailbus.recipient_count'], 1);
    assert.ok(Number(receive?.attributes['mailbus.size']) > 0);
    assert.equal(receive?.attributes['mailbus.virtual_server'], 'open');
    assert.match(String(receive?.attributes['mailbus.reply']), /^250 2\.0\.0 OK queued as /);
    assert.equal(receive?.attributes['mailbus.reply_code'], 250);
    assert.equal(receive?.attributes['mailbus.outcome'], 'accepted');
    assert.equal(receive?.attributes['mailbus.client_ip'], '127.0.0.1');
    assert.match(String(receive?.attributes['mailbus.message_id']), /@/, 'the Message-ID header');
    assert.equal(receive?.kind, 2, 'the SMTP receive is a SERVER span');
    assert.equal(attempt?.attributes['mailbus.connector'], 'Out');
    assert.equal(attempt?.attributes['mailbus.outcome'], 'delivered');
  });

  test('a message refused after DATA ends its SERVER span in ERROR with the reply and outcome rejected', async () => {
    const hops = 'Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n'.repeat(3);
    await assert.rejects(
      sendMail({
        port: smtp,
        from: 'mallory@sender.test',
        to: ['bob@remote.example'],
        raw: hops + makeMessage({ from: 'mallory@sender.test', to: 'bob@remote.example' }),
      }),
      (e: { responseCode?: number }) => e.responseCode === 554,
    );
    const refused = await waitFor(
      () =>
        collector.spans.find(
          (s) =>
            s.name === 'smtp.receive' && s.attributes['mailbus.sender'] === 'mallory@sender.test',
        ),
      { timeoutMs: 20_000, intervalMs: 100, what: 'the refused message span' },
    );
    assert.equal(refused.kind, 2);
    assert.equal(refused.status, 2, 'status ERROR');
    assert.equal(refused.attributes['mailbus.reply_code'], 554);
    assert.equal(refused.attributes['mailbus.outcome'], 'rejected');
    assert.match(String(refused.attributes['mailbus.reply']), /^554 5\.4\.6/);
  });
});
