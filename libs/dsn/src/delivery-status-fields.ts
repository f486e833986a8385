import { diagnosticCode, serverReplied } from './diagnostic.js';
import type { DsnInput, DsnRecipient } from './dsn-input.js';
import { formatRfc5322Date } from './format-rfc5322-date.js';
import { CRLF, asciiEscaped, foldField, isAscii, oneLine } from './mime-encoding.js';

/**
 * An address as an RFC 3464 typed address: `rfc822; a@b`, or RFC 6533 `utf-8; …` when not ASCII,
 * its non-ASCII characters written `\x{HEX}` (utf-8-addr-xtext) unless `utf8` (a
 * message/global-delivery-status, where they stay as they are: utf-8-addr-unicode).
 */
function typedAddress(address: string, utf8: boolean): string {
  if (isAscii(address)) return `rfc822; ${asciiEscaped(address)}`;
  return `utf-8; ${utf8 ? oneLine(address) : asciiEscaped(address)}`;
}

function recipientFields(r: DsnRecipient, utf8: boolean): string[] {
  const fields: string[] = [];
  if (r.originalRecipient !== undefined)
    fields.push(foldField('Original-Recipient', typedAddress(r.originalRecipient, utf8)));
  fields.push(foldField('Final-Recipient', typedAddress(r.recipient, utf8)));
  fields.push(`Action: ${r.action}`);
  fields.push(`Status: ${asciiEscaped(r.status)}`);
  // Remote-MTA is the server that gave the Diagnostic-Code (RFC 3464 §2.3.5): none when no server replied.
  const replied = r.diagnostic === undefined || serverReplied(r.diagnostic);
  if (r.remoteMta !== undefined && replied)
    fields.push(foldField('Remote-MTA', `dns; ${asciiEscaped(r.remoteMta)}`));
  if (r.diagnostic !== undefined)
    fields.push(foldField('Diagnostic-Code', diagnosticCode(r.diagnostic, utf8)));
  if (r.lastAttempt !== undefined)
    fields.push(`Last-Attempt-Date: ${formatRfc5322Date(r.lastAttempt)}`);
  if (r.action === 'delayed' && r.willRetryUntil !== undefined) {
    fields.push(`Will-Retry-Until: ${formatRfc5322Date(r.willRetryUntil)}`);
  }
  return fields;
}

/**
 * The body of the `message/delivery-status` part (RFC 3464 section 2): per-message, then
 * per-recipient fields; of the `message/global-delivery-status` part (RFC 6533) for an
 * international DSN, where UTF-8 stays UTF-8.
 */
export function deliveryStatusFields(input: DsnInput): string {
  const utf8 = input.international === true;
  const perMessage = [foldField('Reporting-MTA', `dns; ${asciiEscaped(input.reportingMta)}`)];
  if (input.envelopeId !== undefined)
    perMessage.push(foldField('Original-Envelope-Id', asciiEscaped(input.envelopeId)));
  perMessage.push(`Arrival-Date: ${formatRfc5322Date(input.arrivalDate)}`);
  const blocks = [perMessage, ...input.recipients.map((r) => recipientFields(r, utf8))];
  return blocks.map((b) => b.join(CRLF) + CRLF).join(CRLF);
}
