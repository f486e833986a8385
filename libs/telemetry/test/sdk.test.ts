import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanAttr, SpanName, withSpan } from '../src/index.js';
import { startTelemetrySdk } from '../src/sdk.js';

describe('startTelemetrySdk', () => {
  test('does nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const sdk = startTelemetrySdk({ serviceName: 'mailbus-test', env: {} });
    assert.equal(sdk.enabled, false);
    await sdk.shutdown();
  });

  test('shutdown() resolves even when the collector is unreachable', async () => {
    const sdk = startTelemetrySdk({
      serviceName: 'mailbus-test',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
    });
    withSpan('lost', {}, () => undefined);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const saved = process.listeners('warning').filter((l) => l !== onWarning);
    process.removeAllListeners('warning').on('warning', onWarning);
    try {
      await sdk.shutdown();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.removeAllListeners('warning');
      for (const l of saved) process.on('warning', l);
    }
    assert.match(warnings.join(), /spans not exported at shutdown/);
  });

  test('does nothing when OTEL_SDK_DISABLED=true', async () => {
    const sdk = startTelemetrySdk({
      serviceName: 'mailbus-test',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' },
    });
    assert.equal(sdk.enabled, false);
    await sdk.shutdown();
  });

  test('exports spans over OTLP/HTTP to <endpoint>/v1/traces and flushes them on shutdown', async () => {
    const requests: Array<{ url: string | undefined; body: Buffer }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ url: req.url, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const sdk = startTelemetrySdk({
        serviceName: 'mailbus-test',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` },
      });
      assert.equal(sdk.enabled, true);
      const traceId = withSpan(SpanName.SmtpReceive, { [SpanAttr.MessageId]: 'm-1' }, (span) =>
        withSpan(SpanName.Enqueue, {}, () => span.spanContext().traceId),
      );
      await sdk.shutdown();
      await sdk.shutdown();
      assert.ok(requests.length >= 1, 'at least one export request');
      assert.equal(requests[0]?.url, '/v1/traces');
      const body = requests.map((r) => r.body.toString('utf8')).join('');
      // JSON or protobuf: the service name and the message id are in it either way.
      assert.ok(body.includes('mailbus-test'), 'service.name exported');
      assert.ok(body.includes('m-1'), 'span attribute exported');
      assert.match(traceId, /^[0-9a-f]{32}$/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('several roles in one process share one provider, stopped by the last shutdown', async () => {
    const server = createServer((req, res) => {
      req.resume().on('end', () => res.writeHead(200).end('{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as AddressInfo;
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` };
    const ingress = startTelemetrySdk({ serviceName: 'mailbus-ingress', env });
    const bridgehead = startTelemetrySdk({ serviceName: 'mailbus-bridgehead', env });
    await ingress.shutdown();
    await ingress.shutdown();
    // Still traced: the bridgehead's share keeps the provider.
    const sampled = withSpan('x', {}, (span) => span.isRecording());
    assert.equal(sampled, true);
    await bridgehead.shutdown();
    const afterLast = withSpan('y', {}, (span) => span.isRecording());
    assert.equal(afterLast, false);
  });
});
