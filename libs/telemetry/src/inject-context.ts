import { context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { formatTraceparent } from './traceparent.js';

/** Trace context as string headers (`traceparent`, `tracestate`, `baggage`), for job data. */
export type TraceCarrier = Record<string, string>;

/**
 * The W3C trace context of `ctx` (default: the active one) as a plain object to put into
 * BullMQ job data, so a bridgehead continues the ingress trace. Uses the registered
 * propagator, and writes `traceparent` itself when none is registered, so the carrier is
 * complete whichever process sets up the SDK. Empty when there is no valid span.
 */
export function injectContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  if (carrier['traceparent'] === undefined) {
    const sc = trace.getSpanContext(ctx);
    if (sc && isSpanContextValid(sc)) {
      carrier['traceparent'] = formatTraceparent(sc);
      const state = sc.traceState?.serialize();
      if (state) carrier['tracestate'] = state;
    }
  }
  return carrier;
}
