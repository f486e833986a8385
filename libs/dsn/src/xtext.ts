/**
 * RFC 3461 section 4 xtext: printable ASCII "!" to "~" except "+" and "=", the rest as "+HH".
 * Returns undefined when `text` is not valid xtext.
 */
export function decodeXtext(text: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c >= 0x21 && c <= 0x7e && c !== 0x3d) {
      bytes.push(c);
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Encodes `text` (UTF-8) as xtext. */
export function encodeXtext(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out +=
      b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d
        ? String.fromCharCode(b)
        : `+${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The address of an ORCPT value as smtp-server hands it over (`rfc822;A@b`,
 * xtext already decoded), without its addr-type: what `Original-Recipient`
 * shows after its own `rfc822;`.
 */
export function orcptAddress(orcpt: string): string {
  const semi = orcpt.indexOf(';');
  return (semi < 0 ? orcpt : orcpt.slice(semi + 1)).trim();
}
