import type { Job } from 'bullmq';
import type { Config } from '@mailbus/config';
import { addressSpaceSpecificity } from '@mailbus/routing';
import type { ConnectorQueues } from './connector-queues.js';
import type { DeliveryJobData, JobRecipient } from './delivery-job.js';
import type { Keys } from './keys.js';
import type { MessageStore } from './message-store.js';
import type { RedisClient } from './redis-connection.js';
import { runScript, type ScriptDef } from './scripts.js';

/**
 * KEYS: the collection locks of the requested domains. ARGV[1] the owner
 * token, ARGV[2] the lease (ms). Takes every lock or none: returns 0 when
 * all were free (now held by the owner), else the 1-based index of the first
 * busy one.
 */
const LOCK: ScriptDef = {
  name: 'mailbusCollectLock',
  lua: `
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and v ~= ARGV[1] then return i end
end
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
return 0`,
};

/** KEYS: collection locks. ARGV[1] the owner token: deletes only the owner's own locks. */
const UNLOCK: ScriptDef = {
  name: 'mailbusCollectUnlock',
  lua: `
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 0`,
};

/** One held job with the recipients a collector asked for. */
export interface HeldJob {
  connector: string;
  job: Job<DeliveryJobData>;
  /** The job's recipients in the requested domains. */
  recipients: JobRecipient[];
}

/**
 * The mail a remote-triggered connector holds for its trigger accounts
 * (ATRN/TURN, RFC 2645): which connectors and jobs a collector may take,
 * a lock per domain so one collector at a time serves a domain across
 * every node, and what is left of a job after a collection.
 */
export class HeldMail {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly config: Config,
    private readonly queues: ConnectorQueues,
    private readonly store: MessageStore,
  ) {}

  /** The remote-triggered connectors `account` may collect, and the domains of their address spaces. */
  collectable(account: string): Array<{ connector: string; domains: string[] }> {
    return this.config.connectors
      .filter((c) => c.delivery.remoteTriggered && c.delivery.triggerAccounts.includes(account))
      .map((c) => ({ connector: c.name, domains: c.addressSpaces.map((a) => a.domain) }));
  }

  /** The connectors `account` may collect `domain` from (an address space covers it). */
  connectorsFor(account: string, domain: string): string[] {
    return this.collectable(account)
      .filter((c) => c.domains.some((d) => addressSpaceSpecificity(d, domain) !== undefined))
      .map((c) => c.connector);
  }

  /** Takes the collection lock of every domain, or none: the busy domain when another collector holds one. */
  async lock(
    domains: readonly string[],
    owner: string,
    leaseMs: number,
  ): Promise<string | undefined> {
    const keys = domains.map((d) => this.keys.collecting(d));
    const busy = Number(await runScript(this.redis, LOCK, keys, [owner, leaseMs]));
    return busy > 0 ? domains[busy - 1] : undefined;
  }

  async unlock(domains: readonly string[], owner: string): Promise<void> {
    const keys = domains.map((d) => this.keys.collecting(d));
    await runScript(this.redis, UNLOCK, keys, [owner]);
  }

  /**
   * The held (delayed) jobs of `connector` with recipients in `inDomain`.
   * With `subdomains`, a domain also matches those below it.
   */
  async jobs(connector: string, inDomain: (domain: string) => boolean): Promise<HeldJob[]> {
    const out: HeldJob[] = [];
    const pageSize = 500;
    for (const q of this.queues.all(connector)) {
      for (let start = 0; ; start += pageSize) {
        const page = (await q.getDelayed(start, start + pageSize - 1)) as Job<DeliveryJobData>[];
        for (const job of page) {
          const recipients = job.data.recipients.filter((r) =>
            inDomain((r.address.split('@').pop() ?? '').toLowerCase()),
          );
          if (recipients.length > 0) out.push({ connector, job, recipients });
        }
        if (page.length < pageSize) break;
      }
    }
    return out;
  }

  /**
   * After a collection: the recipients still to deliver stay held in the job
   * (the rest leave it), or, with none left, the job and its body reference go.
   */
  async settle(job: Job<DeliveryJobData>, remaining: readonly JobRecipient[]): Promise<void> {
    if (remaining.length === job.data.recipients.length) return;
    if (remaining.length > 0) {
      await job.updateData({ ...job.data, recipients: [...remaining] });
      return;
    }
    await job.remove();
    await this.store.release(job.data.messageId);
  }
}
