export { Bridgehead } from './create-bridgehead.js';
export type { BridgeheadDeps } from './create-bridgehead.js';
export { DeliveryProcessor, MISSING_BODY } from './delivery-processor.js';
export type { DeliveryProcessorDeps } from './delivery-processor.js';
export type { DsnRequest, DsnRecipient } from './dsn-request.js';
export { receivedHeader } from './received-header.js';
export { createDsnSender } from './dsn-sender.js';
export { LinkStateExchange, LINK_STATE_INTERVAL_MS } from './link-state-exchange.js';
