export type { MessageFacts, Candidate, RouteDecision, DownConnectors, Priority } from './route-types.js';
export { routeRecipient, routeRecipients } from './route-recipient.js';
