import { isAscii, isUtf8 } from 'node:buffer';
import { encodeBase64Lines, encodeQuotedPrintable } from './content-transfer-encoding.js';

export type DowngradeResult =
  | {
      ok: true;
      /** The message with every 8-bit part re-encoded: 7-bit octets only. */
      message: Buffer;
      /** How many MIME parts were re-encoded. */
      converted: number;
    }
  | {
      ok: false;
      /** Why the message cannot be made 7-bit without changing what it says. */
      reason: string;
    };

class Unconvertible extends Error {}

const CRLF = Buffer.from('\r\n');
const BLANK_LINE = Buffer.from('\r\n\r\n');

interface Entity {
  /** The header section, each field ending in CRLF (no blank line). */
  head: string;
  body: Buffer;
}

function split(buf: Buffer): Entity {
  if (buf.subarray(0, 2).equals(CRLF)) return { head: '', body: buf.subarray(2) };
  const end = buf.indexOf(BLANK_LINE);
  if (end < 0) return { head: buf.toString('latin1'), body: Buffer.alloc(0) };
  return { head: buf.subarray(0, end + 2).toString('latin1'), body: buf.subarray(end + 4) };
}

/** The unfolded value of the first field `name`, or undefined. */
function field(head: string, name: string): string | undefined {
  const m = new RegExp(`^${name}[ \\t]*:(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(head);
  return m?.[1]?.replace(/\r\n/g, '').trim();
}

/** `head` with the Content-Transfer-Encoding field set to `cte` (replaced, or added last). */
function withCte(head: string, cte: string): string {
  const f = `Content-Transfer-Encoding: ${cte}\r\n`;
  const re = /^content-transfer-encoding[ \t]*:.*\r\n(?:[ \t].*\r\n)*/im;
  return re.test(head) ? head.replace(re, () => f) : head + f;
}

interface ContentType {
  type: string;
  boundary?: string;
}

function contentType(head: string, fallback: string): ContentType {
  const v = field(head, 'content-type');
  const m = v === undefined ? undefined : /^\s*([^\s/;]+)\s*\/\s*([^\s;]+)/.exec(v);
  if (!v || !m) return { type: fallback };
  const b = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/i.exec(v);
  const boundary = b?.[1]?.replace(/\\(.)/g, '$1') ?? b?.[2];
  return {
    type: `${(m[1] as string).toLowerCase()}/${(m[2] as string).toLowerCase()}`,
    ...(boundary ? { boundary } : {}),
  };
}

const IDENTITY = new Set(['7bit', '8bit', 'binary']);

function cteOf(head: string): string {
  return (field(head, 'content-transfer-encoding') ?? '7bit').toLowerCase();
}

/** A leaf part's 8-bit body as quoted-printable (text that is mostly ASCII) or base64. */
function encodeLeaf(e: Entity, type: string): { head: string; body: Buffer } {
  const cte = cteOf(e.head);
  if (!IDENTITY.has(cte))
    throw new Unconvertible(`a ${type} part encoded as ${cte} that contains 8-bit octets`);
  let high = 0;
  for (const b of e.body) if (b > 0x7f) high++;
  // Text stays readable as quoted-printable while at most a quarter of it is 8-bit (Latin
  // scripts); beyond that (Cyrillic, Greek, CJK) base64 is the shorter.
  const qp = type.startsWith('text/') && high * 4 <= e.body.length && !e.body.includes(0);
  return qp
    ? { head: withCte(e.head, 'quoted-printable'), body: encodeQuotedPrintable(e.body) }
    : { head: withCte(e.head, 'base64'), body: encodeBase64Lines(e.body) };
}

interface Walk {
  converted: number;
}

/** The lines `--boundary` of a multipart body: where each starts and where the next line starts. */
function delimiters(
  body: Buffer,
  boundary: string,
): Array<{ at: number; next: number; close: boolean }> {
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  const found: Array<{ at: number; next: number; close: boolean }> = [];
  for (let at = 0; at < body.length;) {
    const nl = body.indexOf(CRLF, at);
    const lineEnd = nl < 0 ? body.length : nl;
    if (body.subarray(at, at + dash.length).equals(dash)) {
      const rest = body.subarray(at + dash.length, lineEnd).toString('latin1');
      if (/^(--)?[ \t]*$/.test(rest)) {
        const close = rest.startsWith('--');
        found.push({ at, next: nl < 0 ? body.length : nl + 2, close });
        if (close) break;
      }
    }
    at = nl < 0 ? body.length : nl + 2;
  }
  return found;
}

function requireAscii(buf: Buffer, what: string): void {
  if (!isAscii(buf)) throw new Unconvertible(`8-bit octets in ${what}`);
}

function multipart(e: Entity, ct: ContentType, w: Walk): Buffer[] {
  const cte = cteOf(e.head);
  if (!IDENTITY.has(cte)) throw new Unconvertible(`a multipart entity encoded as ${cte}`);
  if (!ct.boundary) throw new Unconvertible(`a ${ct.type} entity without a boundary`);
  const ds = delimiters(e.body, ct.boundary);
  if (ds.length === 0) throw new Unconvertible(`a ${ct.type} entity whose boundary never occurs`);
  const partType = ct.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  const out: Buffer[] = [];
  let copied = 0;
  ds.forEach((d, i) => {
    // A part ends before the CRLF that belongs to the next delimiter line.
    if (i > 0) {
      const start = (ds[i - 1] as { next: number }).next;
      const end = Math.max(start, d.at - 2);
      out.push(...entity(e.body.subarray(start, end), partType, w));
      copied = end;
    }
    const gap = e.body.subarray(copied, d.next);
    requireAscii(gap, i === 0 ? 'the multipart preamble' : 'a multipart delimiter line');
    out.push(gap);
    copied = d.next;
  });
  const last = ds[ds.length - 1] as { next: number; close: boolean };
  if (last.close) {
    requireAscii(e.body.subarray(last.next), 'the multipart epilogue');
    out.push(e.body.subarray(last.next));
  } else {
    // No closing delimiter: the last part runs to the end.
    out.push(...entity(e.body.subarray(last.next), partType, w));
  }
  return out;
}

/** One MIME entity, 7-bit: unchanged when it already is, else its 8-bit parts re-encoded. */
function entity(buf: Buffer, fallbackType: string, w: Walk): Buffer[] {
  if (isAscii(buf)) return [buf];
  const e = split(buf);
  if (!isAscii(Buffer.from(e.head, 'latin1')))
    throw new Unconvertible('8-bit octets in a header field');
  const ct = contentType(e.head, fallbackType);
  const sep = e.head === '' ? [] : [CRLF];
  if (ct.type.startsWith('multipart/')) {
    const head = cteOf(e.head) === '7bit' ? e.head : withCte(e.head, '7bit');
    return [Buffer.from(head, 'latin1'), ...sep, ...multipart(e, ct, w)];
  }
  if (ct.type === 'message/rfc822' || ct.type === 'message/news') {
    // A message/rfc822 body cannot itself be encoded (RFC 2046 §5.2.1): its parts are.
    const cte = cteOf(e.head);
    if (!IDENTITY.has(cte)) throw new Unconvertible(`a ${ct.type} part encoded as ${cte}`);
    const inner = entity(e.body, 'text/plain', w);
    const head = cte === '7bit' ? e.head : withCte(e.head, '7bit');
    return [Buffer.from(head, 'latin1'), ...sep, ...inner];
  }
  const leaf = encodeLeaf(e, ct.type);
  w.converted++;
  return [Buffer.from(leaf.head, 'latin1'), CRLF, leaf.body];
}

/**
 * The message made 7-bit for a next hop that does not offer 8BITMIME (RFC 6152 §3, RFC 1652):
 * every MIME leaf part with 8-bit octets gets a quoted-printable body (text, at most a quarter of
 * it 8-bit) or a
 * base64 one (anything else), its Content-Transfer-Encoding field changed to say so, and nothing
 * else changes: the other header fields, the multipart structure and 7-bit parts are kept octet for
 * octet, and message/rfc822 parts are converted inside. A message without MIME header fields is
 * treated as text/plain and gets `MIME-Version`, and a `Content-Type` with charset utf-8 (or
 * unknown-8bit, RFC 1428, when its octets are not UTF-8). Not convertible without changing what it
 * says: 8-bit octets in a header field, a multipart preamble or epilogue, or a part that claims to be
 * base64 or quoted-printable already. Pure.
 */
export function downgradeTo7bit(message: Buffer): DowngradeResult {
  if (isAscii(message)) return { ok: true, message, converted: 0 };
  const w: Walk = { converted: 0 };
  try {
    let msg = message;
    const top = split(message);
    if (
      field(top.head, 'mime-version') === undefined &&
      field(top.head, 'content-type') === undefined
    ) {
      const charset = isUtf8(top.body) ? 'utf-8' : 'unknown-8bit';
      const head = `${top.head}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\n`;
      msg = Buffer.concat([Buffer.from(head, 'latin1'), CRLF, top.body]);
    }
    return {
      ok: true,
      message: Buffer.concat(entity(msg, 'text/plain', w)),
      converted: w.converted,
    };
  } catch (err) {
    if (err instanceof Unconvertible) return { ok: false, reason: err.message };
    throw err;
  }
}
