import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

/** pino levels, as in the config's `logging.level`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Diagnostic logging categories (Exchange's "Diagnostics Logging" per category). */
export type LogCategory = 'smtp' | 'routing' | 'queue' | 'delivery';

export interface LoggerOptions {
  /** Level of the root logger and of every category not listed. */
  level: LogLevel;
  /** Level of `logger.child({ category })`, per category. */
  categories?: Partial<Record<LogCategory, LogLevel>>;
  /** Service name, written as `name` on every line. */
  name: string;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
  /** More redaction paths (pino `redact` syntax), added to the built-in ones. */
  redact?: string[];
}

/**
 * Keys whose values never reach a log: passwords and AUTH payloads, at the top level and one
 * or two levels down (`auth.password`, `session.auth.credentials`).
 */
const SECRET_KEYS = [
  'password',
  'pass',
  'passwd',
  'secret',
  'token',
  'authorization',
  'credentials',
  'authPayload',
  'auth_payload',
  'authData',
];
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
]);

/**
 * A pino JSON logger. Every line carries `trace_id` and `span_id` of the active OTel span;
 * callers bind `message_id` and `connector` with `logger.child({ message_id, connector })`.
 * A child bound to a category (`logger.child({ category: 'smtp' })`) takes that category's
 * level, and its own children keep it.
 */
export function createLogger(options: LoggerOptions): Logger {
  const categories = options.categories ?? {};
  return pino(
    {
      name: options.name,
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
      mixin: traceMixin,
      onChild: (child) => {
        const category = categoryOf(child);
        const parent: unknown = Object.getPrototypeOf(child);
        if (category === undefined || category === categoryOf(parent)) return;
        const level = categories[category as LogCategory];
        if (level !== undefined) child.level = level;
      },
    },
    options.destination,
  );
}

function traceMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

function categoryOf(logger: unknown): string | undefined {
  if (typeof logger !== 'object' || logger === null || !('bindings' in logger)) return undefined;
  const bindings = (logger as { bindings: () => Record<string, unknown> }).bindings();
  const category = bindings['category'];
  return typeof category === 'string' ? category : undefined;
}
