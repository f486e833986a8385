import type { SmtpReply } from '@mailbus/smtp';
import type { Candidate, RouteDecision } from './route-types.js';

/** Recipients whose first candidate is one connector: one job on that connector's queue. */
export interface ConnectorGroup {
  connector: string;
  /** Recipients in message order. */
  recipients: string[];
  /** Each recipient with its full candidate list (failover order); lists may differ past the first. */
  routes: Array<{ recipient: string; candidates: Candidate[] }>;
}

/** Recipients of one inbound domain: handed to its mailbox hosts. */
export interface LocalGroup {
  domain: string;
  mailboxHosts: string[];
  recipients: string[];
}

export interface RecipientSplit {
  /** In order of first appearance among the recipients. */
  connectors: ConnectorGroup[];
  local: LocalGroup[];
  rejected: Array<{ recipient: string; reply: SmtpReply }>;
}

/**
 * Groups routed recipients for enqueueing: one group per first candidate
 * connector (one job per connector, the body stored once), one per inbound
 * domain, and the rejected ones.
 */
export function splitByConnector(decisions: readonly RouteDecision[]): RecipientSplit {
  const connectors = new Map<string, ConnectorGroup>();
  const local = new Map<string, LocalGroup>();
  const rejected: RecipientSplit['rejected'] = [];
  for (const d of decisions) {
    if (d.kind === 'rejected') {
      rejected.push({ recipient: d.recipient, reply: d.reply });
    } else if (d.kind === 'local') {
      let g = local.get(d.domain);
      if (!g) {
        g = { domain: d.domain, mailboxHosts: [...d.mailboxHosts], recipients: [] };
        local.set(d.domain, g);
      }
      if (!g.recipients.includes(d.recipient)) g.recipients.push(d.recipient);
    } else {
      const first = d.candidates[0];
      if (first === undefined) continue;
      let g = connectors.get(first.name);
      if (!g) {
        g = { connector: first.name, recipients: [], routes: [] };
        connectors.set(first.name, g);
      }
      if (g.recipients.includes(d.recipient)) continue;
      g.recipients.push(d.recipient);
      g.routes.push({ recipient: d.recipient, candidates: d.candidates.map((c) => ({ ...c })) });
    }
  }
  return { connectors: [...connectors.values()], local: [...local.values()], rejected };
}
