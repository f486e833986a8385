import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, TraceFlags, propagation, trace } from '@opentelemetry/api';
import { extractContext } from './extract-context.js';
import { injectContext } from './inject-context.js';
import { SpanName } from './span-name.js';
import { withSpan } from './with-span.js';
import { startInMemoryTracing } from './sdk.js';
import type { InMemorySpanExporter } from './sdk.js';

let exporter: InMemorySpanExporter;

describe('injectContext / extractContext', () => {
  before(() => {
    exporter = startInMemoryTracing();
  });

  test('round-trips through JSON job data with the same trace id', async () => {
    const { carrier, traceId, spanId } = withSpan(SpanName.SmtpReceive, {}, (span) => ({
      carrier: injectContext(),
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
    }));
    assert.match(carrier['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const jobData = JSON.parse(JSON.stringify({ trace: carrier })) as { trace: unknown };
    const ctx = extractContext(jobData.trace as Record<string, unknown>, ROOT_CONTEXT);
    const sc = trace.getSpanContext(ctx);
    assert.equal(sc?.traceId, traceId);
    assert.equal(sc?.spanId, spanId);
    assert.equal(sc?.isRemote, true);
  });

  test('a child span started after extract has the parent trace id and parent span id', async () => {
    exporter.reset();
    const carrier = withSpan(SpanName.Enqueue, {}, () => injectContext());
    const parent = exporter.getFinishedSpans()[0];
    assert.ok(parent);
    // In the bridgehead, later, in another async context.
    await new Promise((r) => setTimeout(r, 1));
    await withSpan(
      SpanName.DeliveryAttempt,
      {},
      async () => {
        await withSpan(SpanName.SmtpSend, {}, () => undefined);
      },
      { parent: extractContext(carrier, ROOT_CONTEXT) },
    );
    const spans = exporter.getFinishedSpans();
    const attempt = spans.find((s) => s.name === SpanName.DeliveryAttempt);
    const send = spans.find((s) => s.name === SpanName.SmtpSend);
    assert.equal(attempt?.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(attempt?.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(send?.parentSpanContext?.spanId, attempt?.spanContext().spanId);
    assert.equal(send?.spanContext().traceId, parent.spanContext().traceId);
  });

  test('carries tracestate along', () => {
    const ctx = extractContext(
      {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=abc',
      },
      ROOT_CONTEXT,
    );
    const carrier = injectContext(ctx);
    assert.equal(carrier['traceparent'], '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(carrier['tracestate'], 'vendor=abc');
  });

  test('is empty without an active span, and extract of nothing is the base context', () => {
    assert.deepEqual(injectContext(ROOT_CONTEXT), {});
    assert.equal(extractContext(undefined, ROOT_CONTEXT), ROOT_CONTEXT);
    assert.equal(trace.getSpanContext(extractContext({}, ROOT_CONTEXT)), undefined);
  });

  const bad = [
    'garbage',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
  ];
  for (const traceparent of bad) {
    test(`ignores an invalid traceparent ${traceparent}`, () => {
      assert.equal(trace.getSpanContext(extractContext({ traceparent }, ROOT_CONTEXT)), undefined);
    });
  }

  test('ignores non-string carrier values from job data', () => {
    const ctx = extractContext({ traceparent: 42, tracestate: null }, ROOT_CONTEXT);
    assert.equal(trace.getSpanContext(ctx), undefined);
  });

  test('works without any propagator registered (W3C written and read by hand)', () => {
    propagation.disable();
    try {
      const sc = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      };
      const carrier = injectContext(trace.setSpanContext(ROOT_CONTEXT, sc));
      assert.deepEqual(carrier, {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      const back = trace.getSpanContext(extractContext(carrier, ROOT_CONTEXT));
      assert.equal(back?.traceId, sc.traceId);
      assert.equal(back?.spanId, sc.spanId);
      assert.equal(back?.traceFlags, TraceFlags.SAMPLED);
    } finally {
      exporter = startInMemoryTracing();
    }
  });
});
