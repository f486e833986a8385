import type { Config } from '@mailbus/config';
import {
  currentGroup,
  hasSites,
  parseVisitedGroups,
  VISITED_GROUPS_HEADER,
  visitedGroupsHeader,
} from '@mailbus/routing';

/** What the visited-groups header says about a message arriving at a site, and its body to store. */
export interface SiteRoute {
  /** Groups the message was in before this one, oldest first (empty when untrusted). */
  visited: string[];
  /** This node's routing group. */
  here: string;
  /** The body with every incoming visited-groups header removed and this node's one prepended. */
  body: Buffer;
}

const NAME = VISITED_GROUPS_HEADER.toLowerCase();

/** Removes every `X-Mailbus-Routing-Groups` field (with its continuation lines) from the header section. */
function withoutVisitedHeader(body: Buffer, headerBytes: number): Buffer {
  const head = body.subarray(0, headerBytes).toString('latin1');
  const kept: string[] = [];
  let dropping = false;
  for (const line of head.split(/(?<=\r\n)/)) {
    const continuation = line.startsWith(' ') || line.startsWith('\t');
    if (!continuation) dropping = line.toLowerCase().startsWith(`${NAME}:`);
    if (!dropping) kept.push(line);
  }
  return Buffer.concat([Buffer.from(kept.join(''), 'latin1'), body.subarray(headerBytes)]);
}

/**
 * When routing groups are sites: the groups a message has visited, believed
 * only from a client that may relay here (IP in relay.allow or authenticated;
 * anyone else's header is removed), and the body to store, carrying the
 * header with this group appended for the next site. undefined when routing
 * groups are only labels: the message is stored as received.
 */
export function siteRoute(
  config: Config,
  virtualServer: string,
  body: Buffer,
  head: { headers: ReadonlyArray<[string, string]>; headerBytes: number },
  trusted: boolean,
): SiteRoute | undefined {
  if (!hasSites(config)) return undefined;
  const here = currentGroup(config, virtualServer);
  const values = head.headers.filter(([k]) => k === NAME).map(([, v]) => v);
  const visited = trusted ? parseVisitedGroups(values) : [];
  const stripped = values.length > 0 ? withoutVisitedHeader(body, head.headerBytes) : body;
  return {
    visited,
    here,
    body: Buffer.concat([Buffer.from(visitedGroupsHeader(visited, here), 'latin1'), stripped]),
  };
}
