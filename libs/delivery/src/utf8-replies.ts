const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A reply line as nodemailer hands it over (each byte read as one latin1 character)
 * decoded as UTF-8, as RFC 6531 servers send it ("550 5.1.1 bäd"). A line that is not
 * valid UTF-8 keeps its latin1 reading: a legacy server's 8-bit text is not lost.
 */
export function utf8Reply(latin1Line: string): string {
  if (/^[\x00-\x7f]*$/.test(latin1Line)) return latin1Line;
  try {
    return UTF8.decode(Buffer.from(latin1Line, 'latin1'));
  } catch {
    return latin1Line;
  }
}

interface ResponseQueue {
  _responseQueue: string[];
  _processResponse(): unknown;
}

/**
 * Makes an SMTPConnection class read the server's replies as UTF-8. nodemailer decodes
 * each socket chunk as latin1 ("binary"); a whole reply line is re-decoded here, before
 * any reply handler, error or protocol-log entry sees it, so a multi-byte character split
 * across two chunks still decodes.
 */
export function readRepliesAsUtf8(proto: object): void {
  const p = proto as ResponseQueue;
  const base = p._processResponse;
  p._processResponse = function (this: ResponseQueue) {
    const first = this._responseQueue[0];
    if (first !== undefined) this._responseQueue[0] = utf8Reply(first);
    return base.call(this);
  };
}
