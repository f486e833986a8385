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
  /**
   * Exports the spans still buffered and unregisters the SDK (when the last user calls it);
   * call last in the service's close(). Idempotent; never rejects (an export failure
   * becomes a process warning).
   */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set and `OTEL_SDK_DISABLED` is not `true`: a `NodeTracerProvider` whose spans go in
 * batches to the OTLP/HTTP collector (`<endpoint>/v1/traces`), registered globally with the
 * W3C trace-context and baggage propagators and an AsyncLocalStorage context manager.
 * Otherwise it does nothing and the API stays a no-op. Several calls in one process (all roles
 * in `mailbus start`) share the first call's provider and service name; it is shut down with the
 * last `shutdown()`.
 */
export function startTelemetrySdk(options: TelemetrySdkOptions): TelemetrySdk {
  const { env } = options;
  const url = tracesUrl(env);
  if (!url || env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') {
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  // `mailbus start` runs several roles in one process: they share the first provider, which
  // stops when the last of them shuts down.
  shared ??= { provider: startProvider(options, url), users: 0, stopping: undefined };
  const current = shared;
  current.users++;
  let done = false;
  return {
    enabled: true,
    shutdown: () => {
      if (!done) {
        done = true;
        current.users--;
        if (current.users === 0) {
          // Unregister first: spans started from now on are no-ops, and a later start works.
          trace.disable();
          context.disable();
          propagation.disable();
          // A collector that is down must not turn the service's close() into a failure.
          current.stopping = current.provider.shutdown().catch((err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            process.emitWarning(
              `spans not exported at shutdown: ${message}`,
              'MailbusTelemetryWarning',
            );
          });
          if (shared === current) shared = undefined;
        }
      }
      return current.stopping ?? Promise.resolve();
    },
  };
}

let shared:
  { provider: NodeTracerProvider; users: number; stopping: Promise<void> | undefined } | undefined;

function startProvider(options: TelemetrySdkOptions, url: string): NodeTracerProvider {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.env['OTEL_SERVICE_NAME'] || options.serviceName,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
      'service.instance.id': hostname(),
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  return provider;
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
