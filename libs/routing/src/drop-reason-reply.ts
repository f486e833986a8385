import { replies, type SmtpReply } from '@mailbus/smtp';
import type { DropReason } from './route-types.js';

/**
 * The reply for a recipient whose closest connectors were all dropped, from the
 * reason of the first (cheapest) of them: size 552 5.3.4, sender / priority /
 * type 550 5.7.1. A connector hidden by routing-group scope is not a route at
 * all from the message's routing group: 550 5.4.4.
 */
export function dropReasonReply(reason: DropReason, connector: string, domain: string): SmtpReply {
  switch (reason.kind) {
    case 'size':
      return replies.messageTooBig(reason.limitKB);
    case 'sender':
      return replies.senderNotAllowed(connector);
    case 'priority':
      return replies.contentNotAllowed(`with ${reason.priority} priority`);
    case 'type':
      return replies.contentNotAllowed(
        reason.type === 'system' ? 'of type system (DSN or null sender)' : 'of type nonSystem',
      );
    case 'scope':
      return replies.noRoute(domain);
  }
}
