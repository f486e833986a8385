import type { DsnRet } from './dsn-input.js';
import { CRLF } from './mime-encoding.js';

/** The third part of a DSN: the original message or its headers, with its MIME headers. */
export interface ReturnedContent {
  readonly contentType:
    'message/rfc822' | 'text/rfc822-headers' | 'message/global' | 'message/global-headers';
  readonly transferEncoding: '7bit' | '8bit';
  readonly body: Buffer;
}

/** Bare CR or LF become CRLF, so the DSN has CRLF line endings throughout. */
function toCrlf(buf: Buffer): Buffer {
  return Buffer.from(buf.toString('latin1').replace(/\r\n|\r|\n/g, CRLF), 'latin1');
}

function headerSection(msg: Buffer): Buffer {
  const end = msg.indexOf('\r\n\r\n');
  return end < 0 ? msg : msg.subarray(0, end + 2);
}

function hasLongLine(msg: Buffer): boolean {
  let start = 0;
  for (;;) {
    const nl = msg.indexOf('\r\n', start);
    const end = nl < 0 ? msg.length : nl;
    if (end - start > 998) return true;
    if (nl < 0) return false;
    start = nl + 2;
  }
}

function has8bit(buf: Buffer): boolean {
  for (const b of buf) if (b > 0x7f) return true;
  return false;
}

/**
 * RET=FULL returns the whole message as `message/rfc822`, unless it is larger than
 * `maxBytes` or has a line over 998 octets (which 7bit/8bit cannot carry): then, as for
 * RET=HDRS, only its header section is returned as `text/rfc822-headers`. For an
 * `international` DSN (RFC 6533 §6.3, RFC 6532 §3.7) they are `message/global` and
 * `message/global-headers`.
 */
export function returnedContent(
  original: Buffer,
  ret: DsnRet,
  maxBytes: number,
  international = false,
): ReturnedContent {
  const msg = toCrlf(original);
  const full = ret === 'FULL' && msg.length <= maxBytes && !hasLongLine(msg);
  let body = full ? msg : headerSection(msg);
  if (!full && hasLongLine(body))
    body = Buffer.from(
      body.toString('latin1').replace(/[^\r\n]{998,}/g, (l) => l.slice(0, 990)),
      'latin1',
    );
  if (!body.subarray(-2).equals(Buffer.from(CRLF))) body = Buffer.concat([body, Buffer.from(CRLF)]);
  return {
    contentType: international
      ? full
        ? 'message/global'
        : 'message/global-headers'
      : full
        ? 'message/rfc822'
        : 'text/rfc822-headers',
    transferEncoding: has8bit(body) ? '8bit' : '7bit',
    body,
  };
}
