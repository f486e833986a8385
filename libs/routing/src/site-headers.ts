import { VISITED_GROUPS_HEADER } from './visited-groups.js';

/**
 * The header in which a site's bridgehead hands the message's trace context
 * (W3C `traceparent`, `tracestate`) and its own queue id to the next site:
 * `X-Mailbus-Trace-Context: traceparent=00-…-01; site=Paris; queue-id=…`,
 * values URI-encoded. Believed only from a client that may relay there
 * (DESIGN 7); removed from every message a site accepts.
 */
export const TRACE_CONTEXT_HEADER = 'X-Mailbus-Trace-Context';

/** The headers that travel only between the organisation's sites, never out of it. */
export const SITE_HEADERS: readonly string[] = [VISITED_GROUPS_HEADER, TRACE_CONTEXT_HEADER];

/** What the sending site says about a message it hands over. */
export interface SiteTraceContext {
  traceparent?: string;
  tracestate?: string;
  /** The routing group of the sending site. */
  site?: string;
  /** The message's queue id at the sending site (for `mailbus track`). */
  queueId?: string;
}

const KEYS: ReadonlyArray<[keyof SiteTraceContext, string]> = [
  ['traceparent', 'traceparent'],
  ['tracestate', 'tracestate'],
  ['site', 'site'],
  ['queueId', 'queue-id'],
];

/** The header line (with CRLF) carrying `t`. */
export function traceContextHeader(t: SiteTraceContext): string {
  const parts = KEYS.flatMap(([k, name]) => {
    const v = t[k];
    return v ? [`${name}=${encodeURIComponent(v)}`] : [];
  });
  return `${TRACE_CONTEXT_HEADER}: ${parts.join('; ')}\r\n`;
}

/** The value of a trace-context header back to its fields; unknown or malformed parts ignored. */
export function parseTraceContext(value: string): SiteTraceContext {
  const t: SiteTraceContext = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const key = KEYS.find(([, n]) => n === name)?.[0];
    if (!key || t[key] !== undefined) continue;
    try {
      const v = decodeURIComponent(part.slice(eq + 1).trim());
      if (v !== '' && !/[\r\n]/.test(v)) t[key] = v;
    } catch {
      // not URI-encoded: ignored
    }
  }
  return t;
}

/** Matches the start of a field named one of `names` (any case, blanks allowed before the colon). */
function fieldStart(names: readonly string[]): RegExp {
  const alt = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`^(?:${alt})[ \\t]*:`, 'i');
}

/** Length of the header section of a raw message, up to and including the CRLF of its last field. */
function headerLength(body: Buffer): number {
  if (body.subarray(0, 2).toString('latin1') === '\r\n') return 0;
  const end = body.indexOf('\r\n\r\n');
  return end < 0 ? body.length : end + 2;
}

/** The values of every field `name` in the header section (continuation lines unfolded). */
export function headerValues(body: Buffer, name: string): string[] {
  const start = fieldStart([name]);
  const head = body.subarray(0, headerLength(body)).toString('latin1');
  const values: string[] = [];
  let current: number | undefined;
  for (const line of head.split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && current !== undefined) {
      values[current] += ` ${line.trim()}`;
      continue;
    }
    current = undefined;
    const m = start.exec(line);
    if (m) {
      current = values.length;
      values.push(line.slice(m[0].length).trim());
    }
  }
  return values;
}

/**
 * The message without any of the fields `names` (with their continuation
 * lines) in its header section; the same buffer when it has none of them.
 */
export function removeHeaderFields(body: Buffer, names: readonly string[]): Buffer {
  const start = fieldStart(names);
  const length = headerLength(body);
  const head = body.subarray(0, length).toString('latin1');
  const kept: string[] = [];
  let dropping = false;
  let dropped = false;
  for (const line of head.split(/(?<=\r\n)/)) {
    const continuation = line.startsWith(' ') || line.startsWith('\t');
    if (!continuation) dropping = start.test(line);
    if (dropping) dropped = true;
    else kept.push(line);
  }
  if (!dropped) return body;
  return Buffer.concat([Buffer.from(kept.join(''), 'latin1'), body.subarray(length)]);
}
