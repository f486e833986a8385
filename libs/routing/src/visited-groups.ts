/**
 * The header in which a message carries the routing groups it has been in,
 * oldest first (`X-Mailbus-Routing-Groups: Paris, Boston`). The receiving
 * site believes it only from a client that may relay there (DESIGN 7).
 */
export const VISITED_GROUPS_HEADER = 'X-Mailbus-Routing-Groups';

/** `"Paris, Boston"` (all such header values, in order) → `['Paris', 'Boston']`, duplicates kept once. */
export function parseVisitedGroups(values: readonly string[]): string[] {
  const groups = values.flatMap((v) => v.split(',')).map((g) => g.trim());
  return [...new Set(groups.filter((g) => g !== ''))];
}

/** The header line (with CRLF) a message carries when it leaves `here` after `visited`. */
export function visitedGroupsHeader(visited: readonly string[], here: string): string {
  return `${VISITED_GROUPS_HEADER}: ${[...visited.filter((g) => g !== here), here].join(', ')}\r\n`;
}
