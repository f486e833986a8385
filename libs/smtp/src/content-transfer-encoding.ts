/** The two 7-bit Content-Transfer-Encodings (RFC 2045 §6.7, §6.8) over bytes, CRLF line breaks. */

const CRLF = '\r\n';
const HEX = '0123456789ABCDEF';

/** One line (no CRLF) as quoted-printable, soft-broken to lines of at most 76 characters. */
function qpLine(bytes: Buffer, start: number, end: number): string {
  const out: string[] = [];
  let line = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    const last = i === end - 1;
    const token =
      (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last)
        ? String.fromCharCode(b)
        : `=${HEX[b >> 4]}${HEX[b & 15]}`;
    // 75 characters and a soft break "=" make the 76 RFC 2045 allows.
    if (line.length + token.length > 75) {
      out.push(`${line}=`);
      line = '';
    }
    line += token;
  }
  out.push(line);
  return out.join(CRLF);
}

/**
 * Quoted-printable of `body`: each CRLF stays a line break (text keeps its lines), every other
 * octet outside printable ASCII (and "=", and white space ending a line) becomes `=XX`.
 */
export function encodeQuotedPrintable(body: Buffer): Buffer {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = body.indexOf(CRLF, start);
    if (nl < 0) {
      lines.push(qpLine(body, start, body.length));
      break;
    }
    lines.push(qpLine(body, start, nl));
    start = nl + 2;
  }
  return Buffer.from(lines.join(CRLF), 'latin1');
}

/** Base64 of `body` in lines of 76 characters; a final CRLF when `body` ended with one. */
export function encodeBase64Lines(body: Buffer): Buffer {
  const b64 = body.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  const endsWithCrlf = body.length >= 2 && body[body.length - 2] === 13 && body.at(-1) === 10;
  return Buffer.from(lines.join(CRLF) + (endsWithCrlf ? CRLF : ''), 'latin1');
}
