import { parseArgs } from 'node:util';
import {
  downAcrossSites,
  explainRoute,
  routeRecipients,
  routeToJson,
  type MessageFacts,
  type Priority,
} from '@mailbus/routing';
import { configPath, knownVirtualServer, readConfig } from '../read-config.js';
import { UsageError } from '../usage-error.js';

/** `mailbus route`: the routing decision for an envelope, nothing sent. */
export async function routeCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: bareRedisFlag(argv),
    options: {
      config: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string', multiple: true },
      'size-kb': { type: 'string' },
      priority: { type: 'string' },
      system: { type: 'boolean' },
      'virtual-server': { type: 'string' },
      redis: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.from === undefined)
    throw new UsageError('--from ADDR is required (use --from "" for the null sender)');
  if (!values.to || values.to.length === 0)
    throw new UsageError('at least one --to ADDR is required');
  const priority = (values.priority ?? 'normal') as Priority;
  if (!['high', 'normal', 'low'].includes(priority))
    throw new UsageError(`--priority must be high, normal or low, not "${values.priority}"`);
  let sizeKB: number | undefined;
  if (values['size-kb'] !== undefined) {
    sizeKB = Number(values['size-kb']);
    if (!Number.isFinite(sizeKB) || sizeKB < 0)
      throw new UsageError(`--size-kb must be a number, not "${values['size-kb']}"`);
  }
  const config = readConfig(configPath(values.config, env, values['data-dir']), env);
  const vs = values['virtual-server'];
  if (vs !== undefined) knownVirtualServer(config, vs);
  const sender = values.from.replace(/^<|>$/g, '');
  const facts: MessageFacts = {
    sender,
    priority,
    system: Boolean(values.system) || sender === '',
    ...(sizeKB !== undefined ? { sizeKB } : {}),
    ...(values['virtual-server'] ? { virtualServer: values['virtual-server'] } : {}),
  };
  let down: ReadonlySet<string> = new Set();
  if (values.redis !== undefined) {
    // A bare --redis: the gateway's Redis (the config's, or a running embedded one). The Redis
    // client is loaded only here: a route without link state never needs it.
    const [{ createWorkerConnection, MailQueue }, { cliRedisTarget }, { waitReachable }] =
      await Promise.all([
        import('@mailbus/queue'),
        import('../redis-target.js'),
        import('../redis-reachable.js'),
      ]);
    const target = cliRedisTarget(config, values.redis, values['data-dir'], env);
    const redis = createWorkerConnection(target);
    try {
      await waitReachable(redis, target);
      const queue = new MailQueue(redis, config, 'cli');
      const now = Date.now();
      const local = await queue.links.down(
        config.connectors.map((c) => c.name),
        now,
      );
      // With sites: also what other routing groups reported (X-LINK2STATE).
      down = downAcrossSites(config, facts.virtualServer, local, await queue.siteLinks.all(), now);
    } finally {
      redis.disconnect();
    }
  }
  const decisions = routeRecipients(config, facts, values.to, down);
  if (values.json) {
    out(JSON.stringify(routeToJson(decisions)));
    return 0;
  }
  for (const to of values.to) {
    out(`${to}:`);
    for (const line of explainRoute(config, facts, to, down)) out(`  ${line}`);
  }
  return 0;
}

/** `--redis` with no URL after it (last, or before another option) becomes `--redis=`. */
function bareRedisFlag(argv: string[]): string[] {
  return argv.map((a, i) =>
    a === '--redis' && (i === argv.length - 1 || argv[i + 1]?.startsWith('--')) ? '--redis=' : a,
  );
}
