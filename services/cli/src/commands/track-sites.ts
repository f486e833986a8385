import type { Config } from '@mailbus/config';
import {
  createWorkerConnection,
  describeRedisTarget,
  MailQueue,
  redisTargetOf,
  type RedisTarget,
  type TrackingEvent,
} from '@mailbus/queue';
import { hasSites } from '@mailbus/routing';

/** One message's history at one site, as `--json` prints it. */
export interface TrackedMessage {
  id: string;
  /** The routing group(s) whose Redis holds these events (only when routing groups are sites). */
  routingGroup?: string;
  events: TrackingEvent[];
}

/** One Redis to search: this site's, or another routing group's (DESIGN 7). */
export interface TrackSite {
  /** The routing groups on this Redis, comma-separated; undefined without sites. */
  routingGroup?: string;
  target: RedisTarget;
}

/** What a search over every site found, and the sites it could not reach (their events are there). */
export interface TrackResult {
  messages: TrackedMessage[];
  unreachable: Array<{ routingGroup?: string; redis: string; error: string }>;
}

/** Follows a message from site to site at most this many times. */
const MAX_ROUNDS = 8;

/**
 * The Redis instances `mailbus track` searches: `here` (--redis, else the
 * config's top-level one); with routing groups as sites, also each group's
 * own bus (a group without one is on `here`), so a message that crossed
 * sites is found whole from either site.
 */
export function trackSites(config: Config, here: RedisTarget): TrackSite[] {
  if (!hasSites(config)) return [{ target: here }];
  const byRedis = new Map<string, TrackSite>();
  const add = (target: RedisTarget, group?: string) => {
    const key = describeRedisTarget(target);
    const site = byRedis.get(key) ?? { target };
    if (group !== undefined)
      site.routingGroup = site.routingGroup ? `${site.routingGroup}, ${group}` : group;
    byRedis.set(key, site);
  };
  for (const g of config.routingGroups) add(g.redis ? redisTargetOf(g.redis) : here, g.name);
  add(here);
  return [...byRedis.values()];
}

/**
 * The queue ids at other sites a message's events name: the `queued as` of
 * the next site (the reply to a routing-group connector's delivery) and the
 * sending site's id (the `received` event of a message handed over).
 */
export function linkedIds(config: Config, events: readonly TrackingEvent[]): string[] {
  const joining = new Set(
    config.connectors.filter((c) => c.connectedRoutingGroups.length > 0).map((c) => c.name),
  );
  const ids: string[] = [];
  for (const e of events) {
    const next =
      e.connector && joining.has(e.connector) && /queued as ([0-9A-Z]+)/.exec(e.reply ?? '');
    if (next && next[1]) ids.push(next[1]);
    const previous =
      e.type === 'received' && / from routing group .+ as ([0-9A-Z]+)$/.exec(e.detail ?? '');
    if (previous && previous[1]) ids.push(previous[1]);
  }
  return ids;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`cannot reach Redis at ${what} within ${ms / 1000}s`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Every message the term names at every site, and the messages those are at
 * the sites they were handed to or came from, oldest first.
 */
export async function trackAcrossSites(
  config: Config,
  sites: readonly TrackSite[],
  term: string,
  timeoutMs: number,
): Promise<TrackResult> {
  const open = sites.map((s) => {
    const redis = createWorkerConnection(s.target);
    return { site: s, redis, queue: new MailQueue(redis, config, 'cli'), down: '' };
  });
  const found = new Map<string, TrackedMessage>();
  try {
    let terms = [term];
    const asked = new Set<string>();
    for (let round = 0; round < MAX_ROUNDS && terms.length > 0; round++) {
      const next: string[] = [];
      for (const t of terms) {
        asked.add(t.toLowerCase());
        for (const o of open) {
          if (o.down) continue;
          try {
            const where = describeRedisTarget(o.site.target);
            const look = async () => {
              const list: TrackedMessage[] = [];
              for (const id of await o.queue.tracking.find(t)) {
                const key = `${where} ${id}`;
                if (found.has(key)) continue;
                const events = await o.queue.tracking.history(id);
                if (events.length === 0) continue;
                const m: TrackedMessage = {
                  id,
                  ...(o.site.routingGroup ? { routingGroup: o.site.routingGroup } : {}),
                  events,
                };
                found.set(key, m);
                list.push(m);
              }
              return list;
            };
            for (const m of await withTimeout(look(), timeoutMs, where))
              next.push(...linkedIds(config, m.events).filter((i) => !asked.has(i.toLowerCase())));
          } catch (err) {
            o.down = err instanceof Error ? err.message : String(err);
          }
        }
      }
      terms = [...new Set(next)];
    }
  } finally {
    for (const o of open) o.redis.disconnect();
  }
  const first = (m: TrackedMessage) => m.events[0]?.at ?? 0;
  return {
    messages: [...found.values()].sort((a, b) => first(a) - first(b)),
    unreachable: open
      .filter((o) => o.down)
      .map((o) => ({
        ...(o.site.routingGroup ? { routingGroup: o.site.routingGroup } : {}),
        redis: describeRedisTarget(o.site.target),
        error: o.down,
      })),
  };
}
