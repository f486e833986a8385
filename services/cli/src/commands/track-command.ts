import { parseArgs } from 'node:util';
import type { TrackingEvent } from '@mailbus/queue';
import { configPath, readConfig } from '../read-config.js';
import { cliRedisTarget } from '../redis-target.js';
import { UsageError, UserError } from '../usage-error.js';
import { trackAcrossSites, trackSites } from './track-sites.js';

export type { TrackedMessage } from './track-sites.js';

/** How long `mailbus track` waits for Redis before giving up. */
const REDIS_TIMEOUT_MS = 5000;

/**
 * `mailbus track <queue-id | Message-ID | sender | recipient> [--config FILE] [--redis URL] [--json]`:
 * every tracking event of the messages the term names, across all nodes, oldest first.
 * With routing groups as sites, every site's Redis is searched and a message
 * is followed to the sites it was handed to and from (each listed with its
 * routing group). Exit 1 (a UserError) when nothing is found or Redis cannot be reached.
 */
export async function trackCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      redis: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [term, ...extra] = positionals;
  if (term === undefined || term.trim() === '')
    throw new UsageError('name a queue id, Message-ID, sender or recipient');
  if (extra.length > 0)
    throw new UsageError(`one search term only (got also "${extra.join(' ')}")`);
  const config = readConfig(configPath(values.config, env, values['data-dir']), env);
  const target = cliRedisTarget(config, values.redis, values['data-dir'], env);
  const sites = trackSites(config, target);
  const { messages, unreachable } = await trackAcrossSites(
    config,
    sites,
    term.trim(),
    REDIS_TIMEOUT_MS,
  );
  if (messages.length === 0) {
    const [down] = unreachable;
    if (down && unreachable.length === sites.length)
      throw new UserError(`MAILBUS_ERR_REDIS_UNREACHABLE: ${down.error}`);
    throw new UserError(
      `MAILBUS_ERR_UNKNOWN_MESSAGE: no message found for "${term}" (tracking keeps events for ${Math.round(config.tracking.retention / 3_600_000)}h)${unreachable.map((u) => `; not searched: ${where(u)}: ${u.error}`).join('')}`,
    );
  }
  if (values.json) {
    out(JSON.stringify({ messages, ...(unreachable.length > 0 ? { unreachable } : {}) }));
    return 0;
  }
  for (const m of messages) {
    out(`message ${m.id}${m.routingGroup ? ` (routing group ${m.routingGroup})` : ''}`);
    for (const e of m.events) out(`  ${formatTrackingEvent(e)}`);
  }
  for (const u of unreachable) out(`not searched: ${where(u)}: ${u.error} (its events are there)`);
  return 0;
}

function where(u: { routingGroup?: string; redis: string }): string {
  return u.routingGroup ? `routing group ${u.routingGroup} (${u.redis})` : u.redis;
}

/** One event as a line: time (ISO UTC), node, event, connector, recipients, host, reply or detail. */
export function formatTrackingEvent(e: TrackingEvent): string {
  const said = [e.reply, e.detail].filter((s): s is string => Boolean(s)).join('; ');
  return [
    new Date(e.at).toISOString(),
    e.node || '-',
    e.type.padEnd(9),
    e.connector || '-',
    e.recipients && e.recipients.length > 0 ? e.recipients.join(',') : '-',
    e.host || '-',
    said || '-',
  ].join('  ');
}
