import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parseConfig } from '@mailbus/config';
import { createDsnSender, Gateway } from '@mailbus/cli';
import { createLogger } from '@mailbus/telemetry';
import { startInMemoryTracing, type InMemorySpanExporter } from '@mailbus/telemetry/sdk';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  waitFor,
} from '@mailbus/testing';

type LogLine = Record<string, unknown> & { msg?: string };

/** The keys of a JSON object's top level, in order, repeats included (JSON.parse keeps the last). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      const start = i;
      for (i++; json[i] !== '"'; i++) if (json[i] === '\\') i++;
      if (depth === 1 && json[i + 1] === ':')
        keys.push(JSON.parse(json.slice(start, i + 1)) as string);
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

describe('pino JSON logs carry the trace and the message', () => {
  let redis: RedisServer;
  let sink: SinkServer;
  let gateway: Gateway;
  let spans: InMemorySpanExporter;
  const lines: LogLine[] = [];
  const raw: string[] = [];
  let queueId: string;

  before(async () => {
    spans = startInMemoryTracing();
    redis = await RedisServer.start();
    sink = await SinkServer.start();
    const smtp = await freePort();
    const r = parseConfig(`
redis: { url: "${redis.url}", commandTimeout: 1s }
logging: { level: info, categories: { smtp: warn } }
virtualServers:
  - { name: open, listen: "127.0.0.1:${smtp}", fqdn: mx.logs.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Out, smartHosts: ["[127.0.0.1]:${sink.port}"], bridgeheads: [open], addressSpaces: [{ domain: "*" }] }
`);
    assert.ok(r.ok);
    const capture = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n'))
          if (l.trim()) {
            raw.push(l);
            lines.push(JSON.parse(l) as LogLine);
          }
        cb();
      },
    });
    gateway = new Gateway({
      config: r.config,
      roles: ['ingress', 'bridgehead'],
      env: {},
      logger: createLogger({
        name: 'mailbus',
        level: r.config.logging.level,
        categories: r.config.logging.categories,
        destination: capture,
      }),
      sendDsn: createDsnSender(r.config),
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
    });
    await gateway.start();
    const sent = await sendMail({
      port: smtp,
      from: 'a@sender.test',
      to: ['b@remote.example'],
      raw: makeMessage({ from: 'a@sender.test', to: 'b@remote.example' }),
    });
    queueId = /queued as ([0-9A-Z]+)$/.exec(sent.response)?.[1] ?? '';
    await sink.waitForMessages(1, 20_000);
    await waitFor(() => lines.some((l) => l.msg === 'sent'), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the delivered log line',
    });
    // The line is written inside the attempt; its span ends a moment later.
    await waitFor(() => spans.getFinishedSpans().some((s) => s.name === 'delivery.attempt'), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: 'the delivery span to end',
    });
  });

  after(async () => {
    await gateway?.close();
    await sink?.close();
    await redis?.close();
  });

  test('the delivery log line carries trace_id, span_id, message_id and connector, and its span is the delivery attempt', () => {
    const line = lines.find((l) => l.msg === 'sent');
    assert.ok(line);
    assert.equal(line['message_id'], queueId);
    assert.equal(line['queue_id'], queueId);
    assert.equal(line['connector'], 'Out');
    // What Postfix's delivery line carries: to, relay, delay and its parts, dsn, status, reply.
    assert.deepEqual(line['to'], ['b@remote.example']);
    assert.match(String(line['relay']), /^127\.0\.0\.1\[127\.0\.0\.1\]:\d+$/);
    assert.equal(typeof line['delay'], 'number');
    assert.match(String(line['delays']), /^[\d.]+\/[\d.]+\/[\d.]+$/);
    assert.equal(line['dsn'], '2.0.0');
    assert.equal(line['status'], 'sent');
    assert.match(String(line['reply']), /^250 2\.0\.0 /);
    assert.equal(line['category'], 'delivery');
    assert.match(String(line['trace_id']), /^[0-9a-f]{32}$/);
    assert.match(String(line['span_id']), /^[0-9a-f]{16}$/);
    const attempt = spans.getFinishedSpans().find((s) => s.name === 'delivery.attempt');
    const receive = spans.getFinishedSpans().find((s) => s.name === 'smtp.receive');
    assert.equal(line['span_id'], attempt?.spanContext().spanId);
    assert.equal(
      line['trace_id'],
      receive?.spanContext().traceId,
      'the same trace as the ingress span',
    );
  });

  test('a category set to warn keeps its info lines out (Exchange diagnostic levels per category)', () => {
    assert.ok(
      !lines.some((l) => l['category'] === 'smtp' && l['level'] === 'info'),
      'no info line from the smtp category',
    );
    assert.ok(
      lines.some((l) => l['category'] === 'delivery' && l['level'] === 'info'),
      'delivery still logs at info',
    );
  });

  test('every line is JSON with an ISO time, a level label and the service name', () => {
    for (const l of lines) {
      assert.match(String(l['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(String(l['level'])));
      assert.equal(l['name'], 'mailbus');
    }
  });

  test('no line repeats a key (log stores such as Elasticsearch refuse a document that does)', () => {
    assert.ok(
      raw.some((l) => topLevelKeys(l).includes('connector')),
      'lines with a connector',
    );
    for (const l of raw) {
      const keys = topLevelKeys(l);
      assert.deepEqual(
        keys.filter((k, i) => keys.indexOf(k) !== i),
        [],
        l,
      );
    }
  });
});
