import { DSN_MAX_RETURNED_BYTES } from './dsn-input.js';
import type { DsnInput } from './dsn-input.js';
import { deliveryStatusFields } from './delivery-status-fields.js';
import { formatRfc5322Date } from './format-rfc5322-date.js';
import { humanReadableReport } from './human-readable-report.js';
import {
  CRLF,
  asciiEscaped,
  encodeWords,
  foldField,
  isAscii,
  oneLine,
  quotedPrintable,
} from './mime-encoding.js';
import { returnedContent } from './returned-content.js';

export interface BuiltDsn {
  /** The whole RFC 5322 message, CRLF line endings; send it from the null sender `<>`. */
  readonly raw: Buffer;
  /** Its Message-ID, with angle brackets. */
  readonly messageId: string;
}

/** The original's Subject, unfolded, 8-bit octets read as UTF-8; undefined when it has none. */
function originalSubject(original: Buffer): string | undefined {
  const end = original.indexOf('\r\n\r\n');
  const head = original.subarray(0, end < 0 ? Math.min(original.length, 65536) : end);
  const m = /^subject:[ \t]*(.*)$/im.exec(head.toString('latin1').replace(/\r?\n[ \t]+/g, ' '));
  if (!m) return undefined;
  return Buffer.from(m[1] as string, 'latin1')
    .toString('utf8')
    .trim();
}

/**
 * Subject as Exchange writes it: the most serious action reported, then the
 * original subject ("Undeliverable: Quarterly report", "Delayed: …").
 */
function subject(input: DsnInput): string {
  const actions = new Set(input.recipients.map((r) => r.action));
  const prefix = actions.has('failed')
    ? 'Undeliverable'
    : actions.has('delayed')
      ? 'Delayed'
      : actions.has('relayed') && !actions.has('delivered')
        ? 'Relayed'
        : 'Delivered';
  return `${prefix}: ${originalSubject(input.originalMessage) || '(no subject)'}`;
}

/** The original's Message-ID, for In-Reply-To / References, when it has a plain one. */
function originalMessageId(original: Buffer): string | undefined {
  const end = original.indexOf('\r\n\r\n');
  const head = original
    .subarray(0, end < 0 ? Math.min(original.length, 65536) : end)
    .toString('latin1');
  const m = /^message-id:[ \t]*(<[\x21-\x3b\x3d\x3f-\x7e]+>)/im.exec(
    head.replace(/\r?\n[ \t]+/g, ' '),
  );
  return m?.[1];
}

/**
 * Builds an RFC 3464 delivery status notification: `multipart/report;
 * report-type=delivery-status` (RFC 6522) with a human-readable part, the
 * `message/delivery-status` fields, and the original message (RET=FULL) or its headers
 * (RET=HDRS, or when the original is over `maxReturnedBytes`). Pure: the date, id and
 * boundary come from the input. The caller checks `dsnAllowed` and `shouldNotify` first.
 * When the original was SMTPUTF8 (`international`), the RFC 6533 form: `report-type=
 * global-delivery-status`, a `message/global-delivery-status` part and `message/global` (or
 * `message/global-headers`); such a DSN is sent with SMTPUTF8.
 */
export function buildDsn(input: DsnInput): BuiltDsn {
  if (input.recipients.length === 0)
    throw new RangeError('buildDsn: a DSN reports at least one recipient');
  if (!/^[A-Za-z0-9._-]+$/.test(input.randomId))
    throw new RangeError('buildDsn: randomId must be letters, digits, ".", "_" or "-"');
  const messageId = `<${input.randomId}@${oneLine(input.messageIdDomain ?? input.reportingMta)}>`;
  const returned = returnedContent(
    input.originalMessage,
    input.ret,
    input.maxReturnedBytes ?? DSN_MAX_RETURNED_BYTES,
    input.international === true,
  );
  const reportType = input.international ? 'global-delivery-status' : 'delivery-status';
  const text = humanReadableReport(input);
  const status = deliveryStatusFields(input);
  let boundary = `=_mailbus-dsn-${input.randomId}`;
  const clash = (b: string): boolean =>
    returned.body.includes(b) || text.includes(b) || status.includes(b);
  for (let i = 1; clash(boundary); i++) boundary = `=_mailbus-dsn-${input.randomId}-${i}`;

  const inReplyTo = originalMessageId(input.originalMessage);
  const sender = oneLine(input.originalSender);
  const headers = [
    `From: Mail Delivery System <MAILER-DAEMON@${asciiEscaped(input.reportingMta)}>`,
    // An SMTPUTF8 address cannot be RFC 2047-encoded; it is written as is and needs SMTPUTF8 downstream.
    `To: <${sender}>`,
    `Subject: ${encodeWords(subject(input))}`,
    `Date: ${formatRfc5322Date(input.now)}`,
    `Message-ID: ${messageId}`,
    ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`, `References: ${inReplyTo}`] : []),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    foldField(
      'Content-Type',
      `multipart/report; report-type=${reportType}; boundary="${boundary}"`,
    ),
  ];
  const textAscii = isAscii(text.replace(/\r\n/g, ''));
  const parts = [
    headers.join(CRLF),
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    `Content-Type: text/plain; charset=${textAscii ? 'us-ascii' : 'utf-8'}`,
    `Content-Transfer-Encoding: ${textAscii ? '7bit' : 'quoted-printable'}`,
    '',
    textAscii ? text : quotedPrintable(text),
    `--${boundary}`,
    'Content-Description: Delivery report',
    `Content-Type: message/${reportType}`,
    ...(isAscii(status.replace(/\r\n/g, '')) ? [] : ['Content-Transfer-Encoding: 8bit']),
    '',
    status,
    `--${boundary}`,
    `Content-Description: ${returned.contentType.endsWith('headers') ? 'Undelivered message headers' : 'Undelivered message'}`,
    `Content-Type: ${returned.contentType}`,
    `Content-Transfer-Encoding: ${returned.transferEncoding}`,
    '',
    '',
  ].join(CRLF);
  const raw = Buffer.concat([
    Buffer.from(parts, 'utf8'),
    returned.body,
    Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'ascii'),
  ]);
  return { raw, messageId };
}
