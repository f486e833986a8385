import { isNullSender } from './is-null-sender.js';

/**
 * Whether a DSN may be sent about a message from `originalSender`: never to `<>` (RFC 5321
 * section 4.5.5; a DSN about a DSN would loop).
 */
export function dsnAllowed(originalSender: string): boolean {
  return !isNullSender(originalSender);
}
