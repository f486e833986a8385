import { parseArgs } from 'node:util';
import {
  createWorkerConnection,
  describeRedisTarget,
  MailQueue,
  type RedisTarget,
  type TrackingEvent,
} from '@mailbus/queue';
import { configPath, readConfig } from '../read-config.js';
import { cliRedisTarget } from '../redis-target.js';
import { UsageError, UserError } from '../usage-error.js';

/** How long `mailbus track` waits for Redis before giving up. */
const REDIS_TIMEOUT_MS = 5000;

/** One message's history, as `--json` prints it. */
export interface TrackedMessage {
  id: string;
  events: TrackingEvent[];
}

/**
 * `mailbus track <queue-id | Message-ID | sender | recipient> [--config FILE] [--redis URL] [--json]`:
 * every tracking event of the messages the term names, across all nodes, oldest first.
 * Exit 1 (a UserError) when nothing is found or Redis cannot be reached.
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
  const redis = createWorkerConnection(target);
  try {
    const queue = new MailQueue(redis, config, 'cli');
    const messages = await withTimeout(lookUp(queue, term.trim()), target);
    if (messages.length === 0) {
      throw new UserError(
        `mailbus track: no message found for "${term}" (tracking keeps events for ${Math.round(config.tracking.retention / 3_600_000)}h)`,
      );
    }
    if (values.json) {
      out(JSON.stringify({ messages }));
      return 0;
    }
    for (const m of messages) {
      out(`message ${m.id}`);
      for (const e of m.events) out(`  ${formatTrackingEvent(e)}`);
    }
    return 0;
  } finally {
    redis.disconnect();
  }
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

async function lookUp(queue: MailQueue, term: string): Promise<TrackedMessage[]> {
  const ids = await queue.tracking.find(term);
  const messages: TrackedMessage[] = [];
  for (const id of ids) messages.push({ id, events: await queue.tracking.history(id) });
  return messages.filter((m) => m.events.length > 0);
}

function withTimeout<T>(p: Promise<T>, target: RedisTarget): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const where = describeRedisTarget(target);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UserError(
            `MAILBUS_ERR_REDIS_UNREACHABLE: cannot reach Redis at ${where} within ${REDIS_TIMEOUT_MS / 1000}s`,
          ),
        ),
      REDIS_TIMEOUT_MS,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
