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
