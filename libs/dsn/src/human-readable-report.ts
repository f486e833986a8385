import { formatReply } from '@mailbus/smtp';
import { connectionFailure, inReplyToText, noReplyReason, serverReplied } from './diagnostic.js';
import type { DsnAction, DsnInput, DsnRecipient } from './dsn-input.js';
import { formatRfc5322Date } from './format-rfc5322-date.js';
import { CRLF, oneLine } from './mime-encoding.js';
import { statusText } from './status-text.js';

const HEADINGS: Readonly<Record<DsnAction, string>> = {
  failed: 'Delivery has failed to these recipients or groups:',
  delayed: 'Delivery to these recipients or groups has been delayed; the server will keep trying:',
  delivered: 'Your message has been delivered to these recipients:',
  relayed:
    'Your message has been relayed to these recipients; the next server may not send further notices:',
  expanded: 'Your message has been delivered to these recipients, which are distribution lists:',
};

const ORDER: readonly DsnAction[] = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'];

function describe(r: DsnRecipient): string[] {
  const lines = [`  ${oneLine(r.recipient)}`];
  const meaning = statusText(r.status);
  lines.push(`    ${meaning ? `${meaning} (${r.status})` : `Status ${oneLine(r.status)}`}`);
  const d = r.diagnostic;
  if (d !== undefined && serverReplied(d)) {
    const who =
      r.remoteMta !== undefined ? `The remote server ${oneLine(r.remoteMta)}` : 'The server';
    lines.push(`    ${who} replied: ${oneLine(formatReply(d))}${inReplyToText(d)}`);
  } else if (d !== undefined) {
    // A connection that failed, or mailbus's own decision (no route, SMTPUTF8 not offered…).
    const lead = connectionFailure(d) === undefined ? 'Not sent' : 'No server replied';
    lines.push(`    ${lead}: ${noReplyReason(d).replace(/\.$/, '')}.`);
  }
  if (r.explanation !== undefined) lines.push(`    ${oneLine(r.explanation)}`);
  if (r.action === 'delayed' && r.willRetryUntil !== undefined) {
    lines.push(`    Delivery will be retried until ${formatRfc5322Date(r.willRetryUntil)}.`);
  }
  return lines;
}

/** The human-readable first part of the report, Exchange-NDR style; UTF-8 text with CRLF lines. */
export function humanReadableReport(input: DsnInput): string {
  const of = `Your message of ${formatRfc5322Date(input.arrivalDate)}`;
  const failed = input.recipients.some((r) => r.action === 'failed');
  const delayed = input.recipients.some((r) => r.action === 'delayed');
  const lines = [
    `This is the mail system at ${oneLine(input.reportingMta)} (${oneLine(input.organization)}).`,
    '',
    failed && delayed
      ? `${of} could not be delivered to some recipients, and is still on its way to others.`
      : failed
        ? `${of} could not be delivered to one or more recipients. This is final: it will not be retried.`
        : delayed
          ? `${of} has not been delivered yet to one or more recipients; delivery continues.`
          : `This is a delivery report for your message of ${formatRfc5322Date(input.arrivalDate)}.`,
  ];
  for (const action of ORDER) {
    const group = input.recipients.filter((r) => r.action === action);
    if (group.length === 0) continue;
    lines.push('', HEADINGS[action], '');
    for (const r of group) lines.push(...describe(r));
  }
  lines.push('', 'The technical details are in the attached delivery status report.');
  return lines.map(wrap).join(CRLF) + CRLF;
}

/** Keeps lines short enough to read; long words (a long reply text) are broken at 900 characters. */
function wrap(line: string): string {
  const out: string[] = [];
  let rest = line;
  while (rest.length > 900) {
    out.push(rest.slice(0, 900));
    rest = `    ${rest.slice(900)}`;
  }
  out.push(rest);
  return out.join(CRLF);
}
