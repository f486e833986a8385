import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';

/** The tracer of mailbus code (a no-op until a service starts the SDK). */
export function getTracer(name = 'mailbus', version?: string): Tracer {
  return trace.getTracer(name, version);
}
