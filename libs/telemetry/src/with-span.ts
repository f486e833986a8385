import { SpanStatusCode, context } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanKind, Tracer } from '@opentelemetry/api';
import { getTracer } from './get-tracer.js';

export interface WithSpanOptions {
  /** Parent context (e.g. from `extractContext`); default the active one. */
  parent?: Context;
  kind?: SpanKind;
  tracer?: Tracer;
}

/**
 * Runs `fn` in a new active span named `name` and ends the span when `fn` returns or its
 * promise settles. A throw or rejection is recorded on the span (exception event, status
 * ERROR) and rethrown; `fn` may set its own status and attributes on the span it receives.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T,
  options: WithSpanOptions = {},
): T {
  const tracer = options.tracer ?? getTracer();
  const parent = options.parent ?? context.active();
  const spanOptions =
    options.kind === undefined ? { attributes } : { attributes, kind: options.kind };
  return tracer.startActiveSpan(name, spanOptions, parent, (span): T => {
    let result: T;
    try {
      result = fn(span);
    } catch (err) {
      fail(span, err);
      span.end();
      throw err;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => {
          span.end();
          return value;
        },
        (err: unknown) => {
          fail(span, err);
          span.end();
          throw err;
        },
      ) as T;
    }
    span.end();
    return result;
  });
}

function fail(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  else span.recordException(String(err));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err),
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
