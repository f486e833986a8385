import type { Config } from '@mailbus/config';
import { ConnectorQueues } from './connector-queues.js';
import type { DeliveryPolicy } from '@mailbus/schedule';
import { deliveryPolicy, ForceWindows } from './connector-schedules.js';
import {
  LOCAL_DELIVERY,
  messageFacts,
  type ClientInfo,
  type DeliveryJobData,
  type JobRecipient,
} from './delivery-job.js';
import { jobId } from './job-id.js';
import { HeldMail } from './held-mail.js';
import { Keys } from './keys.js';
import { LinkStateStore } from './link-state-store.js';
import { SiteLinkStateStore } from './site-link-state-store.js';
import { MessageStore } from './message-store.js';
import { isCluster, type RedisClient } from './redis-connection.js';
import { settleWrites } from './settle-writes.js';
import { TrackingStore, type TrackingWrite } from './tracking-store.js';

/** Recipients that share one delivery plan: one job. */
export interface RecipientGroup {
  /** Connector names in try order; [LOCAL_DELIVERY] for an inbound domain. */
  plan: string[];
  recipients: JobRecipient[];
  /** Mailbox hosts, for an inbound domain. */
  mailboxHosts?: string[];
}

export interface Submission {
  id: string;
  body: Buffer;
  sender: string;
  receivedAt: number;
  headerMessageId?: string;
  envId?: string;
  ret?: 'FULL' | 'HDRS';
  body8bit?: boolean;
  smtpUtf8?: boolean;
  priority: DeliveryJobData['priority'];
  system: boolean;
  virtualServer: string;
  groups: RecipientGroup[];
  trace: Record<string, string>;
  /** Who handed the message over: for the Received header and tracking. */
  client: ClientInfo;
  /**
   * The 'received' tracking event (TrackingStore.prepare): written by the
   * body's script, so Redis stores it before any bridgehead can pick a job up.
   */
  received?: TrackingWrite;
}

const DAY = 86_400_000;

/**
 * The queue as ingress and bridgeheads see it: store a body once, add one
 * job per recipient group, and the stores around them. All Redis access of
 * the services goes through here.
 */
export class MailQueue {
  readonly keys: Keys;
  readonly store: MessageStore;
  readonly queues: ConnectorQueues;
  readonly tracking: TrackingStore;
  readonly links: LinkStateStore;
  /** Link state heard from other routing groups (sites). */
  readonly siteLinks: SiteLinkStateStore;
  /** Every delivery decision (schedules, failover, retry, expiry): pure, time as a parameter. */
  readonly policy: DeliveryPolicy;
  readonly forced: ForceWindows;
  /** Held mail of remote-triggered connectors, for ATRN/TURN collectors. */
  readonly held: HeldMail;

  constructor(
    readonly redis: RedisClient,
    readonly config: Config,
    node: string,
  ) {
    this.keys = new Keys(config.redis.prefix);
    const maxExpire = Math.max(2 * DAY, ...config.connectors.map((c) => c.retry.expireAfter));
    this.store = new MessageStore(redis, this.keys, maxExpire + DAY);
    const partitions = new Map(config.connectors.map((c) => [c.name, c.partitions]));
    this.queues = new ConnectorQueues(redis, this.keys, (c) => partitions.get(c) ?? 1);
    this.tracking = new TrackingStore(redis, this.keys, config.tracking.retention, node);
    this.links = new LinkStateStore(redis, this.keys);
    this.siteLinks = new SiteLinkStateStore(redis, this.keys);
    this.policy = deliveryPolicy(config);
    this.forced = new ForceWindows(redis, this.keys, this.policy);
    this.held = new HeldMail(redis, this.keys, config, this.queues, this.store);
  }

  /** Every queue-bearing connector name, the local delivery queue included. */
  connectorNames(): string[] {
    return [...this.config.connectors.map((c) => c.name), LOCAL_DELIVERY];
  }

  /**
   * Stores the body and adds every job. Resolves only after Redis acknowledged
   * every write and the writes are durable per `redis.durability` (see durability.ts). On any failure it
   * removes what it wrote (best effort; the body's TTL covers the rest) and
   * rejects, so the caller answers 451 and nothing half-written is delivered.
   */
  async submit(s: Submission): Promise<void> {
    // Force windows are read only for connectors with a schedule (none: no round trip).
    const forced = await Promise.all(
      s.groups.map((g) => this.forced.read(g.plan.slice(0, 1), s.body.length)),
    );
    const now = Date.now();
    // On a Cluster the tracking indexes live in other slots than the body: sent
    // on their own (best effort, like all tracking).
    const apart = s.received !== undefined && isCluster(this.redis);
    const received = s.received && apart ? { ...s.received, indexes: [] } : s.received;
    if (s.received && apart) void Promise.allSettled(this.tracking.indexWrites(s.id, s.received));
    // The masters the writes go to, for the durability wait (settleWrites).
    const sentTo = isCluster(this.redis) ? this.redis.nodes('master') : undefined;
    // Only the body and its job count: sender and arrival are in every job.
    const put = this.store.put(s.id, s.body, s.groups.length, {}, received);
    const writes: Promise<unknown>[] = [put];
    // On one Redis the body and the jobs share a connection, so Redis has the
    // body before any job. On a Cluster they go to different masters with no
    // order between them: during a failover a job was taken before its body
    // was written ("body missing", the message dropped after a 250). There the
    // jobs are added once the body is acknowledged.
    const bodyFailed =
      sentTo !== undefined &&
      (await put.then(
        () => false,
        () => true,
      ));

    const added: Array<{ connector: string; jobId: string }> = [];
    if (!bodyFailed)
      s.groups.forEach((g, branch) => {
        const connector = g.plan[0] as string;
        const data: DeliveryJobData = {
          v: 1,
          messageId: s.id,
          sender: s.sender,
          recipients: g.recipients,
          size: s.body.length,
          receivedAt: s.receivedAt,
          priority: s.priority,
          system: s.system,
          virtualServer: s.virtualServer,
          plan: g.plan,
          planIndex: 0,
          round: 0,
          branch,
          hop: 0,
          attempts: [],
          trace: s.trace,
          client: s.client,
          ...(s.headerMessageId ? { headerMessageId: s.headerMessageId } : {}),
          ...(s.envId ? { envId: s.envId } : {}),
          ...(s.ret ? { ret: s.ret } : {}),
          ...(s.body8bit ? { body8bit: true } : {}),
          ...(s.smtpUtf8 ? { smtpUtf8: true } : {}),
          ...(g.mailboxHosts ? { mailboxHosts: g.mailboxHosts } : {}),
        };
        const id = jobId(s.id, branch, 0);
        added.push({ connector, jobId: id });
        writes.push(this.queues.add(connector, data, id, this.dueIn(data, now, forced[branch])));
      });
    const results = await settleWrites(this.redis, this.config.redis, writes, sentTo);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled([
        this.store.remove(s.id),
        ...added.map((a) => this.queues.remove(a.connector, s.id, a.jobId)),
      ]);
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
  }

  /**
   * How long a job about to be added on plan[planIndex] waits (the policy's
   * enqueue step): 0 when due now, else until its schedule opens or, held,
   * until expiry (a job taken then expires).
   */
  dueIn(data: DeliveryJobData, now: number, forcedUntil?: ReadonlyMap<string, number>): number {
    const step = this.policy.decide({
      message: messageFacts(data),
      event: { kind: 'enqueue' },
      now,
      forcedUntil,
    });
    return step.kind === 'wait' ? step.until - now : 0;
  }

  /**
   * ETRN: promotes the held (delayed) jobs of a connector that have a
   * recipient in `domain` (or, with `subdomains`, below it), so they are
   * delivered now. Returns how many jobs were released.
   */
  async releaseHeld(connector: string, domain: string, subdomains = false): Promise<number> {
    const d = domain.toLowerCase();
    const inDomain = (address: string) => {
      const rd = (address.split('@').pop() ?? '').toLowerCase();
      return rd === d || (subdomains && rd.endsWith(`.${d}`));
    };
    let released = 0;
    for (const q of this.queues.all(connector)) {
      // Collect first, promote after: promoting while paging would shift the pages.
      const matching = [];
      const pageSize = 500;
      for (let start = 0; ; start += pageSize) {
        const jobs = await q.getDelayed(start, start + pageSize - 1);
        matching.push(
          ...jobs.filter((job) => job.data.recipients.some((r) => inDomain(r.address))),
        );
        if (jobs.length < pageSize) break;
      }
      for (const job of matching) {
        // A job that went active or was removed meanwhile is not an error.
        if (
          await job.promote().then(
            () => true,
            () => false,
          )
        )
          released++;
      }
    }
    return released;
  }

  async close(): Promise<void> {
    await this.queues.close();
  }
}
