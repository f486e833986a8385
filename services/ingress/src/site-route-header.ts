import type { Config } from '@mailbus/config';
import {
  currentGroup,
  hasSites,
  headerValues,
  parseTraceContext,
  parseVisitedGroups,
  removeHeaderFields,
  SITE_HEADERS,
  TRACE_CONTEXT_HEADER,
  VISITED_GROUPS_HEADER,
  visitedGroupsHeader,
  type SiteTraceContext,
} from '@mailbus/routing';

/** What the site headers say about a message arriving at a site, and its body to store. */
export interface SiteRoute {
  /** Groups the message was in before this one, oldest first (empty when untrusted). */
  visited: string[];
  /** This node's routing group. */
  here: string;
  /** The sending site and its queue id (from the handed-over trace context), when trusted. */
  from?: { site: string; queueId: string };
  /** The body with every incoming site header removed and this node's visited-groups one prepended. */
  body: Buffer;
}

const VISITED = VISITED_GROUPS_HEADER.toLowerCase();

/**
 * When routing groups are sites: the groups a message has visited and the
 * site it came from, believed only from a client that may relay here (IP in
 * relay.allow or authenticated; anyone else's headers are removed), and the
 * body to store: without the incoming visited-groups and trace-context
 * headers, carrying the visited-groups header with this group appended for
 * the next site. `handed` is what siteTraceContext read from the same
 * message, so that header is parsed once. undefined when routing groups are
 * only labels: the message is stored as received.
 */
export function siteRoute(
  config: Config,
  virtualServer: string,
  body: Buffer,
  head: { headers: ReadonlyArray<[string, string]> },
  trusted: boolean,
  handed: SiteTraceContext | undefined,
): SiteRoute | undefined {
  if (!hasSites(config)) return undefined;
  const here = currentGroup(config, virtualServer);
  const visited = trusted
    ? parseVisitedGroups(head.headers.filter(([k]) => k === VISITED).map(([, v]) => v))
    : [];
  const t = (trusted && handed) || {};
  return {
    visited,
    here,
    ...(t.site && t.queueId ? { from: { site: t.site, queueId: t.queueId } } : {}),
    body: Buffer.concat([
      Buffer.from(visitedGroupsHeader(visited, here), 'latin1'),
      removeHeaderFields(body, SITE_HEADERS),
    ]),
  };
}

/**
 * The trace context another site's bridgehead handed over with the message
 * (the parent of this site's receive span): only when routing groups are
 * sites and the client may relay here; undefined otherwise.
 */
export function siteTraceContext(
  config: Config,
  body: Buffer,
  trusted: boolean,
): SiteTraceContext | undefined {
  if (!trusted || !hasSites(config)) return undefined;
  const [value] = headerValues(body, TRACE_CONTEXT_HEADER);
  return value === undefined ? undefined : parseTraceContext(value);
}
