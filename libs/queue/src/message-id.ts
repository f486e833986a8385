import { randomBytes } from 'node:crypto';

/**
 * A queue id like Postfix's: time-ordered, unique across nodes without
 * coordination (48 bits of time in ms + 40 random bits), 18 characters,
 * [0-9A-Z].
 */
export function newQueueId(now = Date.now()): string {
  const t = now.toString(36).toUpperCase().padStart(9, '0');
  const r = BigInt(`0x${randomBytes(6).toString('hex')}`)
    .toString(36)
    .toUpperCase()
    .padStart(9, '0')
    .slice(-9);
  return `${t}${r}`;
}
