/**
 * Every Redis key mailbus uses, in one module. Each key carries a hash tag
 * ({…}) so that it maps to one Redis Cluster slot:
 * - a connector queue's keys share the tag of its queue (`{Internet}` or
 *   `{Internet#2}` for partition 2), so BullMQ's scripts touch one slot;
 * - a message's body and state share the tag of its queue id, so bodies
 *   spread over the cluster.
 */
export class Keys {
  constructor(readonly prefix = 'mailbus') {}

  /** BullMQ queue name of a connector partition; the braces make it the hash tag. */
  queueName(connector: string, partition = 0): string {
    return partition === 0 ? `{${connector}}` : `{${connector}#${partition}}`;
  }

  /** Connector name back from a BullMQ queue name. */
  connectorOfQueue(queueName: string): string | undefined {
    const m = /^\{(.+?)(?:#\d+)?\}$/.exec(queueName);
    return m ? m[1] : undefined;
  }

  /** Hash: body, sender, refs, per-recipient state of one message. */
  message(id: string): string {
    return `${this.prefix}:m:{${id}}`;
  }

  /** List of tracking events of one message (JSON, oldest first). */
  tracking(id: string): string {
    return `${this.prefix}:t:{${id}}`;
  }

  /** Set of queue ids found under a search term (Message-ID, sender, recipient). */
  trackingIndex(term: string): string {
    return `${this.prefix}:ti:{${term.toLowerCase()}}`;
  }

  /** Hash: link state of a connector (failures, downUntil, since, lastError). */
  link(connector: string): string {
    return `${this.prefix}:link:{c:${connector}}`;
  }

  /** Set of connectors whose link state ever changed: the index for link reads. */
  linkIndex(): string {
    return `${this.prefix}:links`;
  }

  /** String: the last link-state report heard from another routing group (site), JSON. */
  siteLink(group: string): string {
    return `${this.prefix}:sitelink:{g:${group}}`;
  }

  /** Set of routing groups a link-state report was heard from: the index for siteLink reads. */
  siteLinkIndex(): string {
    return `${this.prefix}:sitelinks`;
  }

  /** Set while an operator's "retry now" (Exchange "Force connection") lets a connector deliver outside its schedule. */
  forced(connector: string): string {
    return `${this.prefix}:force:{c:${connector}}`;
  }

  /** Hash: frozen connectors (admin freeze). */
  frozen(): string {
    return `${this.prefix}:frozen`;
  }

  /** Held jobs of a remote-triggered connector, per domain (ETRN). */
  held(connector: string, domain: string): string {
    return `${this.prefix}:held:{c:${connector}}:${domain.toLowerCase()}`;
  }

  /** String: the session collecting a domain's held mail with ATRN/TURN (one per domain, cluster-wide). */
  collecting(domain: string): string {
    return `${this.prefix}:collect:{d:${domain.toLowerCase()}}`;
  }

  /** Cached result of a recipient callout (`valid` / `invalid`), with its TTL; shared by every node. */
  recipientVerification(address: string): string {
    return `${this.prefix}:rv:{${address.toLowerCase()}}`;
  }

  /** Counter of failed AUTH attempts per client IP. */
  authFailures(ip: string): string {
    return `${this.prefix}:authfail:{${ip}}`;
  }
}
