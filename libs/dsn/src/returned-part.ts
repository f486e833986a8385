import type { DsnRet } from './dsn-input.js';

/**
 * What a DSN returns of the original. The sender's RET (RFC 3461 §4.3) when
 * given; otherwise the full message only to a sender this organisation knows
 * (authenticated, or a client allowed to relay) and headers only to anyone
 * else: a failure DSN to an outside sender who may be forged must not carry
 * a stranger's content to the victim (backscatter). Delay notices carry
 * headers only, whatever RET says (the message is still on its way).
 */
export function returnedPart(o: {
  requested: DsnRet | undefined;
  trustedSender: boolean;
  delay: boolean;
}): DsnRet {
  if (o.delay) return 'HDRS';
  return o.requested ?? (o.trustedSender ? 'FULL' : 'HDRS');
}
