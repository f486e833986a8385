import type { ReceivedMessage } from '@mailbus/testing';

/** The values of every header field `name` of a received message, unfolded, in order. */
export function header(m: ReceivedMessage, name: string): string[] {
  const head = m.raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
  return head
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim());
}
