import type { Priority } from './route-types.js';

function header(headers: ReadonlyArray<readonly [string, string]>, name: string): string[] {
  return headers.filter(([k]) => k.trim().toLowerCase() === name).map(([, v]) => v.trim());
}

function fromXPriority(v: string): Priority | undefined {
  const m = /^([1-5])(?!\d)/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 2 ? 'high' : n === 3 ? 'normal' : 'low';
}

function fromImportance(v: string): Priority | undefined {
  const s = v.toLowerCase();
  return s === 'high' || s === 'normal' || s === 'low' ? s : undefined;
}

function fromPriority(v: string): Priority | undefined {
  const s = v.toLowerCase();
  if (s === 'urgent') return 'high';
  if (s === 'non-urgent') return 'low';
  if (s === 'normal') return 'normal';
  return undefined;
}

/**
 * A message's priority for content restrictions, from the first header that
 * says one, in this order: `X-Priority` (1–2 high, 3 normal, 4–5 low; "1
 * (Highest)" allowed), `Importance` (high | normal | low), `Priority` (urgent
 * high, normal, non-urgent low). Unrecognised values are skipped; default normal.
 */
export function priorityFromHeaders(headers: ReadonlyArray<readonly [string, string]>): Priority {
  const rules: Array<[string, (v: string) => Priority | undefined]> = [
    ['x-priority', fromXPriority],
    ['importance', fromImportance],
    ['priority', fromPriority],
  ];
  for (const [name, parse] of rules) {
    for (const v of header(headers, name)) {
      const p = parse(v);
      if (p) return p;
    }
  }
  return 'normal';
}
