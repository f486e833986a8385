/**
 * The one escaping rule of mailbus protocol logs, applied to every value:
 *
 * - an absent or empty value is written as `-`; a value that is exactly `-` is written `%2D`;
 * - `%` is written `%25` and `+` is written `%2B` (first, so the rule round-trips);
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
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === ' ') out += '+';
    else if (ch === '+') out += '%2B';
    else if (ch === '%') out += '%25';
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029) {
      out += percentEncode(ch);
    } else out += ch;
  }
  return out;
}

// Fast path: printable ASCII other than space, `+` and `%`.
const SAFE = /^[\x21-\x24\x26-\x2a\x2c-\x7e]+$/;

function percentEncode(ch: string): string {
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) {
    out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
