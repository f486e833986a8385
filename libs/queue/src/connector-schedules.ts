import { RETRY_DEFAULTS, type Config, type Connector } from '@mailbus/config';
import { DeliveryPolicy, parseSchedule, type ConnectorRules } from '@mailbus/schedule';
import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';

/** How long "retry now" lets a connector deliver outside its delivery schedule. */
export const FORCE_WINDOW_MS = 15 * 60_000;

/** The delivery policy of a config: every connector's schedules and retry settings. */
export function deliveryPolicy(config: Config): DeliveryPolicy {
  return new DeliveryPolicy(config.connectors.map(rulesOf), RETRY_DEFAULTS);
}

function rulesOf(c: Connector): ConnectorRules {
  const tz = c.delivery.timezone;
  const n = parseSchedule(c.delivery.schedule, tz);
  if (!n.ok) throw new Error(`connector ${c.name}: ${n.reason}`);
  let oversize: ConnectorRules['oversize'];
  if (c.delivery.oversize) {
    const o = parseSchedule(c.delivery.oversize.schedule, tz);
    if (!o.ok) throw new Error(`connector ${c.name}: ${o.reason}`);
    oversize = { thresholdBytes: c.delivery.oversize.thresholdKB * 1024, schedule: o.schedule };
  }
  return {
    name: c.name,
    retry: c.retry,
    schedule: n.schedule,
    oversize,
    remoteTriggered: c.delivery.remoteTriggered,
  };
}

const NONE: ReadonlyMap<string, number> = new Map();

/**
 * Operators' force windows ("retry now", Exchange "Force connection"): until
 * when a connector delivers whatever its schedule says. Read only for
 * connectors whose schedule could hold the message, so always-open mail costs
 * no Redis round trip.
 */
export class ForceWindows {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly policy: DeliveryPolicy,
  ) {}

  /** Opens the connector's window from `now` for FORCE_WINDOW_MS. */
  async open(connector: string, now: number): Promise<void> {
    const until = now + FORCE_WINDOW_MS;
    await this.redis.set(this.keys.forced(connector), String(until), 'PX', FORCE_WINDOW_MS);
  }

  /** Closes it before its time. */
  async close(connector: string): Promise<void> {
    await this.redis.del(this.keys.forced(connector));
  }

  /** The open windows among `connectors` for a message of `size` bytes: name ⇒ until. */
  async read(connectors: readonly string[], size: number): Promise<ReadonlyMap<string, number>> {
    const names = connectors.filter((c) => this.policy.hasSchedule(c, size));
    if (names.length === 0) return NONE;
    const vals = await Promise.all(names.map((c) => this.redis.get(this.keys.forced(c))));
    const out = new Map<string, number>();
    names.forEach((c, i) => {
      const until = Number(vals[i]);
      if (vals[i] !== null && Number.isFinite(until)) out.set(c, until);
    });
    return out;
  }
}
