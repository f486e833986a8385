export {
  reply,
  peerReply,
  isTransient,
  isPermanent,
  isPositive,
  formatReply,
  parseReply,
  SmtpRejection,
} from './smtp-reply.js';
export type { SmtpReply } from './smtp-reply.js';
export { replies } from './replies.js';
export { coalesceWrites } from './coalesce-writes.js';
export { downgradeTo7bit } from './downgrade-to-7bit.js';
export type { DowngradeResult } from './downgrade-to-7bit.js';
export { encodeBase64Lines, encodeQuotedPrintable } from './content-transfer-encoding.js';
export { nextHopBody } from './next-hop-body.js';
export type { NextHopBody, OutgoingMessage } from './next-hop-body.js';
