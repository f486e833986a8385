import { context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import type { Context, TextMapGetter } from '@opentelemetry/api';
import { parseTraceparent } from './traceparent.js';

type Carrier = Readonly<Record<string, unknown>>;

const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/**
 * The context to continue a trace from a carrier made by `injectContext` (job data read back
 * from Redis: values that are not strings are ignored). Start the bridgehead's spans in it:
 * `context.with(extractContext(job.data.trace), () => withSpan(...))` or pass it as `parent`.
 * Without a usable carrier it is `base` (default: the active context) unchanged.
 */
export function extractContext(
  carrier: Carrier | null | undefined,
  base: Context = context.active(),
): Context {
  if (!carrier) return base;
  let ctx = propagation.extract(base, carrier, getter);
  const found = trace.getSpanContext(ctx);
  if (found && isSpanContextValid(found) && found !== trace.getSpanContext(base)) return ctx;
  const traceparent = getter.get(carrier, 'traceparent');
  if (typeof traceparent !== 'string') return ctx;
  const tracestate = getter.get(carrier, 'tracestate');
  const sc = parseTraceparent(traceparent, typeof tracestate === 'string' ? tracestate : undefined);
  if (sc) ctx = trace.setSpanContext(ctx, sc);
  return ctx;
}
