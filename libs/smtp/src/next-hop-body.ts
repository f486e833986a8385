import { isAscii } from 'node:buffer';
import { downgradeTo7bit } from './downgrade-to-7bit.js';
import { replies } from './replies.js';
import type { SmtpReply } from './smtp-reply.js';

/** A message about to go to a next hop, and what its MAIL FROM said on the way in. */
export interface OutgoingMessage {
  sender: string;
  recipients: readonly string[];
  body: Buffer;
  /** Received with BODY=8BITMIME, or with 8-bit octets in it. */
  body8bit: boolean;
  /** Received with SMTPUTF8 (RFC 6531). */
  smtpUtf8: boolean;
}

export type NextHopBody =
  | {
      ok: true;
      body: Buffer;
      /** MAIL FROM gets BODY=8BITMIME. */
      body8bit: boolean;
      /** MAIL FROM gets SMTPUTF8. */
      smtpUtf8: boolean;
      /** MIME parts re-encoded to 7 bits (0: the body is sent as received). */
      converted: number;
    }
  | { ok: false; reply: SmtpReply };

function headerSection(body: Buffer): Buffer {
  const end = body.indexOf('\r\n\r\n');
  return end < 0 ? body : body.subarray(0, end);
}

/**
 * What to send a next hop that offers `extensions` (EHLO keywords, upper case):
 * - SMTPUTF8 and BODY=8BITMIME are passed on when it offers them;
 * - an SMTPUTF8 message whose addresses or header fields are not ASCII cannot go to a host
 *   without SMTPUTF8 (RFC 6531 §3.2): `554 5.6.7`; one that is all ASCII goes without the flag;
 * - an 8-bit body to a host without 8BITMIME is re-encoded to 7 bits (RFC 6152 §3), or, when it
 *   cannot be without changing what it says, refused `554 5.6.3`.
 * A 7-bit message is never looked at. `host` names the next hop in the reply.
 */
export function nextHopBody(
  m: OutgoingMessage,
  extensions: readonly string[],
  host: string,
): NextHopBody {
  const offersUtf8 = extensions.includes('SMTPUTF8');
  if (m.smtpUtf8 && !offersUtf8) {
    const needs =
      !isAscii(Buffer.from(m.sender)) ||
      m.recipients.some((r) => !isAscii(Buffer.from(r))) ||
      !isAscii(headerSection(m.body));
    if (needs) return { ok: false, reply: replies.smtputf8NotOffered(host) };
  }
  const smtpUtf8 = m.smtpUtf8 && offersUtf8;
  if (!m.body8bit || extensions.includes('8BITMIME'))
    return { ok: true, body: m.body, body8bit: m.body8bit, smtpUtf8, converted: 0 };
  const d = downgradeTo7bit(m.body);
  if (!d.ok) return { ok: false, reply: replies.conversionNotPossible(host, d.reason) };
  return { ok: true, body: d.message, body8bit: false, smtpUtf8, converted: d.converted };
}
