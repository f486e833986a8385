import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';

/** What one routing group said about its connectors (same shape as @mailbus/routing's SiteLinkReport). */
export interface StoredSiteLinkReport {
  group: string;
  at: number;
  down: string[];
}

/**
 * The link state other sites reported (X-LINK2STATE), kept in this site's
 * Redis so every node of the site routes with it: one JSON string per group.
 */
export class SiteLinkStateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async save(reports: readonly StoredSiteLinkReport[]): Promise<void> {
    for (const r of reports) {
      await this.redis.set(this.keys.siteLink(r.group), JSON.stringify(r));
      await this.redis.sadd(this.keys.siteLinkIndex(), r.group);
    }
  }

  async all(): Promise<StoredSiteLinkReport[]> {
    const groups = await this.redis.smembers(this.keys.siteLinkIndex());
    const values = await Promise.all(groups.map((g) => this.redis.get(this.keys.siteLink(g))));
    return values.flatMap((v) => {
      if (v === null) return [];
      try {
        return [JSON.parse(v) as StoredSiteLinkReport];
      } catch {
        return [];
      }
    });
  }
}
