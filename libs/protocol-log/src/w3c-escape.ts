/**
 * The one escaping rule of mailbus protocol logs, applied to every value:
 *
 * - an absent or empty value is written as `-`; a value that is exactly `-` is written `%2D`;
 * - `%` is written `%25` and `+` is written `%2B` (first, so the rule round-trips);
 * - a `#` that starts a value is written `%23`, so no data line can pass for a directive;
 * - a space is written `+` (as IIS did: `250+2.0.0+OK`);
 * - control characters (U+0000–U+001F, U+007F–U+009F) and the Unicode line and paragraph
 *   separators are written as `%XX`, one per UTF-8 byte, so a value never breaks a line or
 *   a field.
 *
 * Everything else, UTF-8 included, is written as is. To read a value back: `-` is empty,
 * then `+` → space, then `%XX` → byte.
 */
export function escapeW3CValue(value: string | number | null | undefined): string {
  if (value === undefined || value === null) return '-';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  if (text === '') return '-';
  if (text === '-') return '%2D';
  if (SAFE.test(text)) return text;
  const out = text.replace(UNSAFE, escapeChar);
  return out.startsWith('#') ? '%23' + out.slice(1) : out;
}

// Fast path: printable ASCII other than space, `+` and `%`, not starting with `#`.
const SAFE = /^[\x21\x22\x24\x26-\x2a\x2c-\x7e][\x21-\x24\x26-\x2a\x2c-\x7e]*$/;

const UNSAFE = /[%+ \x00-\x1f\x7f-\x9f\u2028\u2029]/g;

function escapeChar(ch: string): string {
  if (ch === ' ') return '+';
  if (ch === '+') return '%2B';
  if (ch === '%') return '%25';
  return percentEncode(ch);
}

function percentEncode(ch: string): string {
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) {
    out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
