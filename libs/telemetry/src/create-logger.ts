import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { humanOutput } from './human-format.js';

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
  /** `json` (default): one JSON object per line; `human`: `key=value` lines for a terminal. */
  format?: LogFormat;
}

/** How log lines are written: JSON for collectors, `human` for a person at a terminal. */
export type LogFormat = 'json' | 'human';

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
const SECRETS = new Set(SECRET_KEYS);
const CENSOR = '[redacted]';

/**
 * REDACT_PATHS by hand: `v` unchanged (no copy) when no secret key is in its
 * first three levels, else a copy with those values censored. pino's own
 * redaction of the same paths (wildcards) cost ~20 µs per line, several
 * times the rest of the line, on every message's log line (bench/).
 */
export function scrubSecrets<T>(v: T, depth = 3): T {
  if (depth === 0 || typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return v;
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    const cur = o[k];
    const next = SECRETS.has(k) ? CENSOR : scrubSecrets(cur, depth - 1);
    if (next !== cur) {
      out ??= copyOf(o);
      out[k] = next;
    }
  }
  return (out ?? v) as T;
}

function copyOf(o: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(o)) return [...(o as unknown[])] as unknown as Record<string, unknown>;
  if (o instanceof Error) {
    // Same prototype and own fields (message, stack, cause): pino's error
    // serializer prints the copy as it would the original, `type` included.
    return Object.create(
      Object.getPrototypeOf(o) as object,
      Object.getOwnPropertyDescriptors(o),
    ) as Record<string, unknown>;
  }
  return { ...o };
}

/**
 * A pino JSON logger. Every line carries `trace_id` and `span_id` of the active OTel span;
 * callers bind `message_id` and `connector` with `logger.child({ message_id, connector })`.
 * A child bound to a category (`logger.child({ category: 'smtp' })`) takes that category's
 * level, and its own children keep it.
 */
export function createLogger(options: LoggerOptions): Logger {
  const categories = options.categories ?? {};
  const logger = pino(
    {
      name: options.name,
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (b) => scrubSecrets(b),
        log: (o) => scrubSecrets(o),
      },
      // Operators' extra paths go through pino's redaction; the built-in ones do not (scrubSecrets).
      ...(options.redact?.length ? { redact: { paths: options.redact, censor: CENSOR } } : {}),
      mixin: traceMixin,
    },
    options.format === 'human'
      ? humanOutput(options.destination ?? pino.destination(1))
      : options.destination,
  );
  // pino applies `formatters.bindings` to the root's base only, never to a
  // child's bindings: scrub those here. Children inherit this `child`. The
  // category is read from the bindings given (pino's bindings() re-parses
  // every binding of the chain: a bridgehead makes a child per job).
  const categoryOf = new WeakMap<object, string>();
  const pinoChild = logger.child;
  logger.child = function scrubbedChild(
    this: Logger,
    bindings: Parameters<Logger['child']>[0],
    childOptions?: Parameters<Logger['child']>[1],
  ) {
    const child = pinoChild.call(this, scrubSecrets(bindings), childOptions);
    const own: unknown = bindings['category'];
    const inherited = categoryOf.get(this);
    const category = typeof own === 'string' ? own : inherited;
    if (category === undefined) return child;
    categoryOf.set(child, category);
    const level = categories[category as LogCategory];
    // A child that names a new category takes its level (unless given one); others keep the parent's.
    if (category !== inherited && level !== undefined && childOptions?.level === undefined)
      child.level = level;
    return child;
  } as Logger['child'];
  return logger;
}

function traceMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
