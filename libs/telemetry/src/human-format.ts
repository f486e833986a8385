import type { DestinationStream } from 'pino';

/** Fields every line has, written in the line's head, not as key=value. */
const HEAD = new Set([
  'time',
  'level',
  'msg',
  'category',
  'name',
  'pid',
  'hostname',
  'err',
  'reply',
]);

function value(v: unknown): string {
  const scalars = Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null);
  const s = typeof v === 'string' ? v : scalars ? v.join(',') : JSON.stringify(v);
  return s === '' || /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

interface SerializedError {
  type?: string;
  message?: string;
  stack?: string;
}

/**
 * One pino JSON line as a person reads it on a terminal, Postfix-style:
 * `time level category message key=value … (reply)`. Keys keep the order the code wrote them;
 * a remote reply ends the line in parentheses, as Postfix writes `status=sent (250 2.0.0 OK)`.
 * An error adds `err="…"`, and at level error and above its stack, indented, on the lines
 * after. A line that is not JSON passes through unchanged.
 */
export function humanLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = String(o['level'] ?? 'info');
  const parts = [String(o['time'] ?? ''), level.padEnd(5)];
  if (typeof o['category'] === 'string') parts.push(o['category'].padEnd(8));
  if (o['msg'] !== undefined) parts.push(String(o['msg']));
  for (const [k, v] of Object.entries(o)) {
    if (HEAD.has(k) || v === undefined || v === null) continue;
    parts.push(`${k}=${value(v)}`);
  }
  const err = o['err'] as SerializedError | undefined;
  if (err) parts.push(`err=${value(err.message ?? err.type ?? 'error')}`);
  if (o['reply'] !== undefined) parts.push(`(${String(o['reply'])})`);
  let line = parts.join(' ');
  if (err?.stack && (level === 'error' || level === 'fatal')) {
    const stack = err.stack.split('\n').slice(1);
    if (stack.length) line += `\n${stack.map((l) => `    ${l.trim()}`).join('\n')}`;
  }
  return `${line}\n`;
}

/** A pino destination that writes each line through `humanLine` to `inner`. */
export function humanOutput(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(humanLine(line)) };
}
