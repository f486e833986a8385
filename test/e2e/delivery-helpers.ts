import type { Gateway } from '@mailbus/cli';
import type { MailQueue } from '@mailbus/queue';
import type { ReceivedMessage } from '@mailbus/testing';
import { simpleParser } from 'mailparser';

/** The bridgehead's queue facade of a started gateway. */
export function queueOf(g: Gateway): MailQueue {
  if (!g.workerQueue) throw new Error('gateway not started');
  return g.workerQueue;
}

/** The queue id from ingress's "250 2.0.0 OK queued as <id>". */
export function queuedId(response: string): string {
  const m = /queued as ([0-9A-Z]+)/.exec(response);
  if (!m?.[1]) throw new Error(`no queue id in ${response}`);
  return m[1];
}

/** One per-recipient block of a message/delivery-status part, field names lower-cased. */
export type DsnFields = Record<string, string>;

export interface ParsedDsn {
  from: string;
  to: string[];
  subject: string;
  contentType: string;
  reportType: string;
  human: string;
  perMessage: DsnFields;
  perRecipient: DsnFields[];
  /** The returned original message or its headers. */
  original: string;
}

function fields(block: string): DsnFields {
  const out: DsnFields = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** Parses a DSN as a mail client would (mailparser), down to its delivery-status fields. */
export async function parseDsn(msg: ReceivedMessage): Promise<ParsedDsn> {
  const parsed = await simpleParser(msg.raw, { skipTextToHtml: true, skipHtmlToText: true });
  const ct = parsed.headers.get('content-type') as
    { value: string; params: Record<string, string> } | undefined;
  // mailparser folds a message/delivery-status part into the text: take it from the MIME structure.
  const boundary = ct?.params.boundary ?? '';
  const parts = boundary ? msg.raw.toString('utf8').split(`--${boundary}`) : [];
  const statusPart =
    parts.find((p) =>
      /^content-type:[ \t]*message\/delivery-status/im.test(p.split(/\r?\n\r?\n/)[0] ?? ''),
    ) ?? '';
  const statusBody = statusPart.slice(statusPart.search(/\r?\n\r?\n/)).trim();
  const original = parsed.attachments.find(
    (a) => a.contentType === 'message/rfc822' || a.contentType === 'text/rfc822-headers',
  );
  const blocks = statusBody.split(/\r?\n\r?\n/);
  return {
    from: msg.from,
    to: msg.to,
    subject: parsed.subject ?? '',
    contentType: ct?.value ?? '',
    reportType: ct?.params['report-type'] ?? '',
    human: parsed.text ?? '',
    perMessage: fields(blocks[0] ?? ''),
    perRecipient: blocks.slice(1).map(fields),
    original: original?.content.toString('utf8') ?? '',
  };
}
