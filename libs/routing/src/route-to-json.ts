import type { RouteDecision } from './route-types.js';

export type RouteJsonEntry =
  | { recipient: string; connectors: Array<{ name: string; cost: number; path?: string[] }> }
  | { recipient: string; local: { mailboxHosts: string[] } }
  | { recipient: string; rejected: { code: number; enhanced: string; reason: string } };

/** The `mailbus route --json` document (DESIGN section 5). */
export interface RouteJson {
  recipients: RouteJsonEntry[];
}

/**
 * Decisions → exactly the `mailbus route --json` shape, no extra keys. Down
 * connectors stay in `connectors`, in try order (after the live ones). A
 * route that leaves the routing group carries `path` (DESIGN section 7).
 */
export function routeToJson(decisions: readonly RouteDecision[]): RouteJson {
  return {
    recipients: decisions.map((d): RouteJsonEntry => {
      switch (d.kind) {
        case 'connectors':
          return {
            recipient: d.recipient,
            connectors: d.candidates.map((c) => ({
              name: c.name,
              cost: c.cost,
              ...(c.path ? { path: [...c.path] } : {}),
            })),
          };
        case 'local':
          return { recipient: d.recipient, local: { mailboxHosts: [...d.mailboxHosts] } };
        case 'rejected':
          return {
            recipient: d.recipient,
            rejected: { code: d.reply.code, enhanced: d.reply.enhanced, reason: d.reply.text },
          };
      }
    }),
  };
}
