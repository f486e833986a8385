import { formatDuration } from './duration.js';
import type { Config, Connector } from './effective-config.js';

/** A JSON value: what `mailbus config check --print` writes. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** `redis://user:secret@host` → `redis://user:***@host`: the printout may be pasted into tickets. */
function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

function toJson(v: unknown): JsonValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  return String(v);
}

function printConnector(c: Connector, config: Config): JsonValue {
  const home = c.bridgeheads
    .map((b) => config.virtualServers.find((v) => v.name.toLowerCase() === b.toLowerCase()))
    .find((v) => v !== undefined);
  const from = `virtual server ${home?.name ?? '(none)'}`;
  const { index: _index, hosts: _hosts, inherited, retry, linkState, ...rest } = c;
  const marks: Record<string, string> = {};
  for (const k of inherited) marks[k] = from;
  return toJson({
    ...rest,
    retry: {
      intervals: retry.intervals.map(formatDuration),
      expireAfter: formatDuration(retry.expireAfter),
      delayNotifyAfter: formatDuration(retry.delayNotifyAfter),
    },
    linkState: {
      ...linkState,
      downFor: formatDuration(linkState.downFor),
      maxDownFor: formatDuration(linkState.maxDownFor),
    },
    inherited: marks,
  });
}

/**
 * The effective configuration as a plain JSON-able object for
 * `mailbus config check --print`: every default filled in, durations written
 * back as text ("15m"), and on each connector an `inherited` map naming the
 * values taken from its bridgehead virtual server
 * (`{"maxSizeKB": "virtual server default"}`). Passwords in URLs are masked.
 */
export function printEffectiveConfig(config: Config): { [key: string]: JsonValue } {
  const { connectors, virtualServers, redis, tracking, routingGroups, ...rest } = config;
  return {
    ...(toJson(rest) as { [key: string]: JsonValue }),
    routingGroups: routingGroups.map((g) =>
      toJson(
        g.redis?.url === undefined
          ? g
          : { ...g, redis: { ...g.redis, url: redactUrl(g.redis.url) } },
      ),
    ),
    redis: toJson({
      ...redis,
      ...(redis.url === undefined ? {} : { url: redactUrl(redis.url) }),
      commandTimeout: formatDuration(redis.commandTimeout),
    }),
    tracking: { retention: formatDuration(tracking.retention) },
    virtualServers: virtualServers.map((vs) =>
      toJson({
        ...vs,
        limits: {
          ...vs.limits,
          socketTimeout: formatDuration(vs.limits.socketTimeout),
          drainTimeout: formatDuration(vs.limits.drainTimeout),
          greetingDelay: formatDuration(vs.limits.greetingDelay),
        },
      }),
    ),
    connectors: connectors.map((c) => printConnector(c, config)),
  };
}
