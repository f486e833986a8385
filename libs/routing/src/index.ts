export type {
  MessageFacts,
  Candidate,
  RouteDecision,
  DownConnectors,
  Priority,
  DropReason,
} from './route-types.js';
export { routeRecipient, routeRecipients } from './route-recipient.js';
export { checkRelay, buildIpList, ipInList } from './check-relay.js';
export type { RelayClient } from './check-relay.js';
export { priorityFromHeaders } from './priority-from-headers.js';
export { routeToJson } from './route-to-json.js';
export type { RouteJson, RouteJsonEntry } from './route-to-json.js';
export { splitByConnector } from './split-by-connector.js';
export type { RecipientSplit, ConnectorGroup, LocalGroup } from './split-by-connector.js';
export { explainRoute } from './explain-route.js';
export { evaluateConnectors } from './evaluate-connectors.js';
export type { ConnectorEvaluation } from './evaluate-connectors.js';
export { dropReason } from './drop-reason.js';
export { dropReasonReply } from './drop-reason-reply.js';
export { addressSpaceSpecificity } from './address-space-specificity.js';
export { closestAddressSpace } from './closest-address-space.js';
export type { AddressSpaceMatch } from './closest-address-space.js';
export { parseRecipient } from './parse-recipient.js';
export type { ParsedRecipient } from './parse-recipient.js';
export { senderMatches } from './sender-matches.js';
export { routeAcrossSites } from './route-across-sites.js';
export { leastCostPaths, comparePaths } from './least-cost-paths.js';
export type { SitePath } from './least-cost-paths.js';
export { siteLinks, hasSites, homeGroup, currentGroup } from './site-graph.js';
export { clientAuthenticated, trustsSite } from './site-trust.js';
export type { SessionClient, SiteTrust } from './site-trust.js';
export type { SiteLink } from './site-graph.js';
export { explainPath } from './explain-path.js';
export {
  VISITED_GROUPS_HEADER,
  parseVisitedGroups,
  visitedGroupsHeader,
} from './visited-groups.js';
export {
  TRACE_CONTEXT_HEADER,
  SITE_HEADERS,
  traceContextHeader,
  parseTraceContext,
  headerValues,
  removeHeaderFields,
} from './site-headers.js';
export type { SiteTraceContext } from './site-headers.js';
export {
  newerReports,
  remoteDown,
  formatLinkReport,
  parseLinkReport,
  SITE_LINK_STALE_MS,
  downAcrossSites,
} from './site-link-state.js';
export type { SiteLinkReport } from './site-link-state.js';
export { connectorEnds, reportedState } from './site-status.js';
export type { ConnectorEnd, SiteConnectorState } from './site-status.js';
