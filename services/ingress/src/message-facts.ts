/** What ingress reads off a received message's header section. */
export interface HeaderFacts {
  headers: Array<[string, string]>;
  /** Length in bytes of the header section including the blank line. */
  headerBytes: number;
  receivedCount: number;
  messageId?: string;
}

/**
 * Parses the header section (up to the first empty line) of a raw message,
 * unfolding continuation lines. Header names lower-cased.
 */
export function readHeaders(raw: Buffer, limitBytes: number): HeaderFacts {
  let end = raw.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) {
    end = raw.length;
    sep = 0;
  }
  const scanEnd = Math.min(end, limitBytes + 1);
  const text = raw.subarray(0, scanEnd).toString('latin1');
  const headers: Array<[string, string]> = [];
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
      const last = headers[headers.length - 1] as [string, string];
      last[1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const receivedCount = headers.filter(([k]) => k === 'received').length;
  const mid = headers.find(([k]) => k === 'message-id')?.[1];
  return {
    headers,
    headerBytes: end + sep,
    receivedCount,
    ...(mid ? { messageId: mid.replace(/^<|>$/g, '') } : {}),
  };
}

/**
 * True when the message has a CR or LF that is not part of a CRLF pair: the
 * raw material of SMTP smuggling (`<LF>.<LF>`, `<LF>.<CR><LF>`, `<CR>.<CR>`).
 */
export function hasBareLineEnding(raw: Buffer): boolean {
  let i = raw.indexOf(0x0a);
  while (i >= 0) {
    if (i === 0 || raw[i - 1] !== 0x0d) return true;
    i = raw.indexOf(0x0a, i + 1);
  }
  let j = raw.indexOf(0x0d);
  while (j >= 0) {
    if (raw[j + 1] !== 0x0a) return true;
    j = raw.indexOf(0x0d, j + 1);
  }
  return false;
}

/** Length in octets of the longest line of a CRLF message, CRLF excluded. */
export function longestLine(raw: Buffer): number {
  let max = 0;
  let start = 0;
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, i + 1)) {
    const len = i - start - (i > 0 && raw[i - 1] === 0x0d ? 1 : 0);
    if (len > max) max = len;
    start = i + 1;
  }
  return Math.max(max, raw.length - start);
}
