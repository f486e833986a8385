/** What `startSdkIfConfigured` returns: call `shutdown()` last, after the service closed. */
export interface StartedSdk {
  /** True when spans are exported to an OTLP collector. */
  readonly enabled: boolean;
  /** Exports the spans still buffered; idempotent, never rejects. */
  shutdown(): Promise<void>;
}

const OFF: StartedSdk = { enabled: false, shutdown: () => Promise.resolve() };

/**
 * Starts the OpenTelemetry SDK (OTLP/HTTP exporter) for this process when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set
 * and `OTEL_SDK_DISABLED` is not `true`; otherwise does nothing and does not even
 * load the SDK, so tracing stays the API's no-op. Call it before the gateway starts,
 * so the first SMTP session is traced.
 */
export async function startSdkIfConfigured(
  serviceName: string,
  env: NodeJS.ProcessEnv,
): Promise<StartedSdk> {
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return OFF;
  const { startTelemetrySdk } = await import('@mailbus/telemetry/sdk');
  return startTelemetrySdk({ serviceName, env, serviceVersion: '0.1.0' });
}
