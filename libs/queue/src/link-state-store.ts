import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';
import { runScript, type ScriptDef } from './scripts.js';

export interface LinkStatus {
  connector: string;
  state: 'up' | 'down' | 'probing';
  /** When the current state began (ms). */
  since: number | null;
  /** Down until (ms) when down. */
  downUntil: number | null;
  consecutiveFailures: number;
  lastError: string | null;
}

export interface LinkPolicy {
  failuresToMarkDown: number;
  downFor: number;
  maxDownFor: number;
}

/**
 * linkFailure-1.lua
 * KEYS[1]  link hash of the connector
 * ARGV[1]  now (ms)          ARGV[2] failures to mark down
 * ARGV[3]  first down (ms)   ARGV[4] longest down (ms)
 * ARGV[5]  error text
 * Returns  downUntil (ms) when this failure marks the link down, else 0.
 * A failure while probing (down interval over, not yet up) marks it down again
 * at once for twice the last interval.
 */
const LINK_FAILURE: ScriptDef = {
  name: 'mailbusLinkFailure',
  lua: `
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'lastError', ARGV[5], 'lastFailure', now)
local downCount = tonumber(redis.call('HGET', KEYS[1], 'downCount') or '0')
local downUntil = tonumber(redis.call('HGET', KEYS[1], 'downUntil') or '0')
if downUntil > now then return downUntil end
if failures >= threshold then
  local interval = math.min(tonumber(ARGV[3]) * (2 ^ downCount), tonumber(ARGV[4]))
  local untilTs = now + interval
  redis.call('HSET', KEYS[1], 'downUntil', untilTs, 'downCount', downCount + 1)
  if downCount == 0 then redis.call('HSET', KEYS[1], 'since', now) end
  return untilTs
end
return 0
`,
};

/** Link state of connectors, shared by every node through Redis. */
export class LinkStateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Records a connection-level failure; returns downUntil if the link is (now) down. */
  private readonly knownUp = new Map<string, number>();

  async recordFailure(
    connector: string,
    error: string,
    policy: LinkPolicy,
    now: number,
  ): Promise<number | null> {
    const key = this.keys.link(connector);
    this.knownUp.delete(connector);
    this.forget(connector);
    await this.redis.sadd(this.keys.linkIndex(), connector);
    const r = (await runScript(
      this.redis,
      LINK_FAILURE,
      [key],
      [
        String(now),
        String(policy.failuresToMarkDown),
        String(policy.downFor),
        String(policy.maxDownFor),
        error.slice(0, 500),
      ],
    )) as number;
    this.forget(connector);
    return r > 0 ? r : null;
  }

  /** A delivery (or probe) succeeded: the link is up. */
  async recordSuccess(connector: string, now: number): Promise<void> {
    // Seen up within the last second: skip the read (one round trip per delivery saved).
    if ((this.knownUp.get(connector) ?? -Infinity) > now - 1000) return;
    const key = this.keys.link(connector);
    const failures = await this.redis.hget(key, 'failures');
    this.knownUp.set(connector, now);
    if (failures === null || failures === '0') return;
    this.forget(connector);
    await this.redis.hset(key, {
      failures: '0',
      downCount: '0',
      downUntil: '0',
      since: String(now),
    });
    this.forget(connector);
  }

  /** downUntil per connector as last read here, and when: for `down` with a maxAgeMs. */
  private readonly seen = new Map<string, { at: number; downUntil: number }>();
  /** Counts this node's link writes: a read begun before one must not be cached. */
  private writes = 0;

  /** Drops the cached read of `connector`, before and again after a write to its link. */
  private forget(connector: string): void {
    this.writes++;
    this.seen.delete(connector);
  }

  /**
   * Connectors marked down at `now`. With `maxAgeMs`, a connector read less
   * than that long ago is not read again (a bridgehead asks once per job;
   * another node's mark is seen at most maxAgeMs late, this node's own at once).
   */
  async down(connectors: readonly string[], now: number, maxAgeMs = 0): Promise<Set<string>> {
    if (connectors.length === 0) return new Set();
    if (maxAgeMs > 0) {
      const cached = connectors.map((c) => this.seen.get(c));
      if (cached.every((e) => e !== undefined && e.at > now - maxAgeMs)) {
        return new Set(connectors.filter((_, i) => (cached[i]?.downUntil ?? 0) > now));
      }
    }
    const writes = this.writes;
    // One command per link hash, sent together: each hash is its own
    // Redis Cluster slot, so they cannot share a pipeline or MULTI there.
    const res = await Promise.allSettled(
      connectors.map((c) => this.redis.hget(this.keys.link(c), 'downUntil')),
    );
    const out = new Set<string>();
    res.forEach((r, i) => {
      const c = connectors[i] as string;
      if (r.status !== 'fulfilled') return;
      const downUntil = typeof r.value === 'string' ? Number(r.value) : 0;
      // A write by this node meanwhile may have changed what was read: don't keep it.
      if (this.writes === writes) this.seen.set(c, { at: now, downUntil });
      if (downUntil > now) out.add(c);
    });
    return out;
  }

  async status(connector: string, now: number): Promise<LinkStatus> {
    const h = await this.redis.hgetall(this.keys.link(connector));
    const downUntil = Number(h.downUntil ?? 0);
    const downCount = Number(h.downCount ?? 0);
    const state = downUntil > now ? 'down' : downCount > 0 ? 'probing' : 'up';
    return {
      connector,
      state,
      since: h.since ? Number(h.since) : null,
      downUntil: downUntil > now ? downUntil : null,
      consecutiveFailures: Number(h.failures ?? 0),
      lastError: h.lastError ?? null,
    };
  }

  /** Forget the link state (operator "retry now"). */
  async reset(connector: string): Promise<void> {
    this.forget(connector);
    this.knownUp.delete(connector);
    await this.redis.del(this.keys.link(connector));
    this.forget(connector);
  }
}
