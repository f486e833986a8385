export { OutboundDelivery } from './outbound-delivery.js';
export type {
  OutboundRequest,
  OutboundResult,
  OutboundSecurity,
  OutboundRecipient,
  RecipientResult,
  RecipientStatus,
  ProtocolLine,
  DeliveryTimeouts,
} from './outbound-types.js';
export { resolveMx } from './resolve-mx.js';
export { resolveNextHops } from './next-hop.js';
export type { HopGroup, NextHopInput } from './next-hop.js';
export type { DeliveryHost, MxResolution, ResolveOptions } from './resolve-mx.js';
export { classifyError, classifyResponse } from './classify-error.js';
export type { FailureCategory, ClassifiedFailure } from './classify-error.js';
export { HeloSmtpConnection } from './helo-smtp-connection.js';
export { SmtpPool } from './smtp-pool.js';
export { requestEtrn, etrnSucceeded, sendCommand } from './etrn-request.js';
export type { EtrnOutcome } from './etrn-request.js';
export { requestTurn, offersAtrn, turnCommand } from './turn-request.js';
export type { TurnOutcome } from './turn-request.js';
export { ReversedDelivery } from './reversed-delivery.js';
export type { ReversedMessage, ReversedSession } from './reversed-delivery.js';
