/** Small MIME helpers for the DSN builder: header folding, RFC 2047 words, quoted-printable. */

export const CRLF = '\r\n';

const NON_ASCII = /[^\x20-\x7e]/;

export function isAscii(text: string): boolean {
  return !NON_ASCII.test(text.replace(/[\r\n\t]/g, ' '));
}

/** Control characters (CR, LF, TAB included) become spaces: a value never breaks a line. */
export function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

/** For 7-bit parts: non-ASCII characters written as RFC 6533 `\x{HEX}`. */
export function asciiEscaped(text: string): string {
  let out = '';
  for (const ch of oneLine(text)) {
    const cp = ch.codePointAt(0) ?? 0x3f;
    out += cp < 0x80 ? ch : `\\x{${cp.toString(16).toUpperCase()}}`;
  }
  return out;
}

/** RFC 2047 encoded-words (UTF-8, base64) for a header text that is not ASCII. */
export function encodeWords(text: string): string {
  const clean = oneLine(text);
  if (isAscii(clean)) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}

/**
 * `Name: value` folded at spaces to lines of at most 78 characters where it can be, and hard-split
 * below 998 octets where it cannot. Lines are joined by CRLF + space; no trailing CRLF.
 */
export function foldField(name: string, value: string): string {
  const words = value.split(/ +/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let line = `${name}:`;
  for (const word of words) {
    if (line === `${name}:` || line.length + 1 + word.length <= 78) {
      line += ` ${word}`;
    } else {
      lines.push(line);
      line = ` ${word}`;
    }
    while (line.length > 900) {
      lines.push(line.slice(0, 900));
      line = ` ${line.slice(900)}`;
    }
  }
  lines.push(line);
  return lines.join(CRLF);
}

/** Quoted-printable (RFC 2045) of UTF-8 text with CRLF line breaks; lines at most 76 characters. */
export function quotedPrintable(text: string): string {
  return text
    .split(CRLF)
    .map((line) => {
      let encoded = '';
      const bytes = Buffer.from(line, 'utf8');
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] ?? 0;
        const last = i === bytes.length - 1;
        const plain = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        encoded += plain
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
      }
      const out: string[] = [];
      while (encoded.length > 76) {
        let cut = 75;
        const eq = encoded.lastIndexOf('=', cut - 1);
        if (eq > cut - 3) cut = eq;
        out.push(`${encoded.slice(0, cut)}=`);
        encoded = encoded.slice(cut);
      }
      out.push(encoded);
      return out.join(CRLF);
    })
    .join(CRLF);
}
