import { test, describe, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SpanAttr } from './span-attr.js';
import { withSpan } from './with-span.js';
import { startInMemoryTracing } from './sdk.js';
import type { InMemorySpanExporter } from './sdk.js';

let exporter: InMemorySpanExporter;

describe('withSpan', () => {
  before(() => {
    exporter = startInMemoryTracing();
  });
  beforeEach(() => exporter.reset());

  test('returns the value of a sync function, with attributes, and ends the span', () => {
    const out = withSpan('delivery.attempt', { [SpanAttr.Connector]: 'Internet' }, (span) => {
      span.setAttribute(SpanAttr.Outcome, 'delivered');
      return 42;
    });
    assert.equal(out, 42);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, 'delivery.attempt');
    assert.equal(span?.attributes[SpanAttr.Connector], 'Internet');
    assert.equal(span?.attributes[SpanAttr.Outcome], 'delivered');
    assert.equal(span?.status.code, SpanStatusCode.UNSET);
  });

  test('makes the span active inside an async function until it settles', async () => {
    const ids = await withSpan('a', {}, async (span) => {
      await new Promise((r) => setTimeout(r, 2));
      return [span.spanContext().spanId, trace.getActiveSpan()?.spanContext().spanId];
    });
    assert.equal(ids[0], ids[1]);
    assert.equal(exporter.getFinishedSpans().length, 1);
  });

  test('records a thrown error, sets status ERROR and rethrows', () => {
    assert.throws(
      () =>
        withSpan('x', {}, () => {
          throw new Error('boom');
        }),
      /boom/,
    );
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span?.status.message, 'boom');
    assert.equal(span?.events[0]?.name, 'exception');
  });

  test('records a rejection the same way', async () => {
    await assert.rejects(
      withSpan('y', {}, async () => {
        await Promise.resolve();
        throw new Error('451 4.3.0 later');
      }),
      /451/,
    );
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span?.events[0]?.attributes?.['exception.message'], '451 4.3.0 later');
  });

  test('takes a span kind', () => {
    withSpan('smtp.send', {}, () => undefined, { kind: SpanKind.CLIENT });
    assert.equal(exporter.getFinishedSpans()[0]?.kind, SpanKind.CLIENT);
  });
});
