import type { SmtpReply } from '@mailbus/smtp';

export type Priority = 'high' | 'normal' | 'low';

/** What is known about a message when routing it. Pure data: no I/O, no clock. */
export interface MessageFacts {
  /** Envelope sender; "" for the null sender `<>`. */
  sender: string;
  /** Size in KB when known (SIZE= at MAIL FROM, or after DATA); undefined = not known yet. */
  sizeKB?: number;
  /** From X-Priority / Importance / Priority headers; default normal. */
  priority: Priority;
  /** A DSN or any message from the null sender. */
  system: boolean;
  /** The virtual server the message entered through (routing-group scope); undefined = any. */
  virtualServer?: string;
  /**
   * Routing groups the message was in before this one, oldest first (from the
   * trusted visited-groups header): it never enters them again, and the first
   * is where it entered the organisation (routing-group scope).
   */
  visitedGroups?: readonly string[];
}

/** A connector the recipient may be delivered through, in try order. */
export interface Candidate {
  name: string;
  cost: number;
  /** Marked down in link state: tried only after the live ones. */
  down?: boolean;
  /** When the route leaves this routing group: every connector of the path, in order (this one first). */
  path?: string[];
}

export type RouteDecision =
  | { kind: 'connectors'; recipient: string; candidates: Candidate[] }
  | { kind: 'local'; recipient: string; domain: string; mailboxHosts: string[] }
  | { kind: 'rejected'; recipient: string; reply: SmtpReply };

/** Names of connectors currently marked down (link state). Empty = all up. */
export type DownConnectors = ReadonlySet<string>;

/** Why step 2 of routing dropped a connector for one message. */
export type DropReason =
  | { kind: 'scope'; routingGroup: string | undefined; connectorGroups: readonly string[] }
  | { kind: 'sender'; sender: string }
  | { kind: 'size'; sizeKB: number; limitKB: number }
  | { kind: 'priority'; priority: Priority }
  | { kind: 'type'; type: 'system' | 'nonSystem' };
