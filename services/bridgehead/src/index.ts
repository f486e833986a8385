export { Bridgehead } from './create-bridgehead.js';
export type { BridgeheadDeps } from './create-bridgehead.js';
export { DeliveryProcessor } from './delivery-processor.js';
export type { DeliveryProcessorDeps, DsnRequest, DsnRecipient } from './delivery-processor.js';
export { receivedHeader } from './received-header.js';
export { createDsnSender } from './dsn-sender.js';
export { LinkStateExchange, LINK_STATE_INTERVAL_MS } from './link-state-exchange.js';
