// The OpenTelemetry SDK, for services' main.ts only (entry point `@mailbus/telemetry/sdk`).
// Libraries import `@mailbus/telemetry`, which depends on `@opentelemetry/api` alone.
import { hostname } from 'node:os';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-node';

export interface TelemetrySdkOptions {
  /** `service.name`: `mailbus-ingress`, `mailbus-bridgehead`, … */
  serviceName: string;
  serviceVersion?: string;
  /** Normally `process.env`: `OTEL_EXPORTER_OTLP_ENDPOINT` turns tracing on. */
  env: Readonly<Record<string, string | undefined>>;
}

export interface TelemetrySdk {
  /** True when spans are exported. */
  readonly enabled: boolean;
  /** Exports the spans still buffered and stops; call last in the service's close(). */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set and `OTEL_SDK_DISABLED` is not `true`: a `NodeTracerProvider` whose spans go in
 * batches to the OTLP/HTTP collector (`<endpoint>/v1/traces`), registered globally with the
 * W3C trace-context and baggage propagators and an AsyncLocalStorage context manager.
 * Otherwise it does nothing and the API stays a no-op.
 */
export function startTelemetrySdk(options: TelemetrySdkOptions): TelemetrySdk {
  const { env } = options;
  const url = tracesUrl(env);
  if (!url || env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') {
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env['OTEL_SERVICE_NAME'] || options.serviceName,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
      'service.instance.id': hostname(),
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => (stopping ??= provider.shutdown()),
  };
}

function tracesUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  if (traces) return traces;
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * For tests: registers a provider that hands every ended span at once to the returned
 * in-memory exporter (`getFinishedSpans()`, `reset()`). Replaces any provider, context
 * manager and propagator registered before, so each test file may call it.
 */
export function startInMemoryTracing(): InMemorySpanExporter {
  trace.disable();
  context.disable();
  propagation.disable();
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  return exporter;
}
