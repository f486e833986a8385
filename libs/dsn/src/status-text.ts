/**
 * RFC 3463 meanings of the enhanced status codes a gateway reports most, worded for the person
 * reading a bounce. Exact codes first; otherwise the meaning of the class and subject.
 */
const EXACT: Readonly<Record<string, string>> = {
  'X.0.0': 'Other undefined status',
  'X.1.0': 'Other address status',
  'X.1.1': 'Bad destination mailbox address: the mailbox does not exist',
  'X.1.2': 'Bad destination system address: the domain does not exist or cannot receive mail',
  'X.1.3': 'Bad destination mailbox address syntax',
  'X.1.6': 'Destination mailbox has moved, no forwarding address',
  'X.1.7': "Bad sender's mailbox address syntax",
  'X.1.8': "Bad sender's system address",
  'X.1.10': 'The recipient domain does not accept mail (null MX)',
  'X.2.0': 'Other or undefined mailbox status',
  'X.2.1': 'Mailbox disabled, not accepting messages',
  'X.2.2': 'Mailbox full',
  'X.2.3': 'Message length exceeds administrative limit',
  'X.3.0': 'Other or undefined mail system status',
  'X.3.1': 'Mail system full',
  'X.3.2': 'System not accepting network messages',
  'X.3.4': 'Message too big for system',
  'X.3.5': 'System incorrectly configured: the message would loop back to this organisation',
  'X.4.0': 'Other or undefined network or routing status',
  'X.4.1': 'No answer from host',
  'X.4.2': 'Bad connection',
  'X.4.3': 'Directory server failure (DNS)',
  'X.4.4': 'Unable to route: no connector or mail exchanger for the destination',
  'X.4.5': 'Mail system congestion',
  'X.4.6': 'Routing loop detected',
  'X.4.7': 'Delivery time expired: the message could not be delivered in the time allowed',
  'X.5.0': 'Other or undefined protocol status',
  'X.5.2': 'Syntax error',
  'X.5.3': 'Too many recipients',
  'X.5.4': 'Invalid command arguments',
  'X.6.0': 'Other or undefined media error',
  'X.6.7': 'Non-ASCII addresses not permitted for that sender or recipient',
  'X.7.0': 'Other or undefined security status',
  'X.7.1': 'Delivery not authorized, message refused',
  'X.7.8': 'Authentication credentials invalid',
  'X.7.10': 'Encryption needed',
  'X.7.11': 'Encryption required for requested authentication mechanism',
};

const SUBJECTS: readonly string[] = [
  'Other or undefined status',
  'Addressing status',
  'Mailbox status',
  'Mail system status',
  'Network and routing status',
  'Mail delivery protocol status',
  'Message content or media status',
  'Security or policy status',
];

const CLASSES: Readonly<Record<string, string>> = {
  '2': 'Success',
  '4': 'Persistent transient failure',
  '5': 'Permanent failure',
};

/** "5.1.1" → "Bad destination mailbox address: the mailbox does not exist"; undefined when not a status. */
export function statusText(status: string): string | undefined {
  const m = /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(status.trim());
  if (!m) return undefined;
  const [, cls = '', subject = '', detail = ''] = m;
  const exact = EXACT[`X.${Number(subject)}.${Number(detail)}`];
  if (exact !== undefined) return exact;
  const s = SUBJECTS[Number(subject)];
  return s === undefined ? CLASSES[cls] : `${CLASSES[cls] ?? ''}: ${s.toLowerCase()}`;
}
