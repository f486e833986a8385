/** Keys that hold a time (epoch milliseconds) in what the REST API returns. */
const TIME_KEY = /^(?:at|since|until|[a-z][A-Za-z]*At|[a-z][A-Za-z]*Until)$/;

/**
 * The REST API's times as ISO 8601 strings (`receivedAt: "2026-12-01T05:00:00.000Z"`), each with
 * the epoch milliseconds kept beside it (`receivedAtMs`) for scripts that compute with them.
 * Walks plain objects and arrays; other values are returned as they are.
 */
export function isoTimes(value: unknown, depth = 8): unknown {
  if (depth === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => isoTimes(v, depth - 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (TIME_KEY.test(k) && typeof v === 'number' && Number.isFinite(v) && v > 0) {
      out[k] = new Date(v).toISOString();
      out[`${k}Ms`] = v;
    } else out[k] = isoTimes(v, depth - 1);
  }
  return out;
}
