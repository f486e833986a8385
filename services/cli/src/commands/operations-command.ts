import { parseArgs } from 'node:util';
import {
  MailQueue,
  QueueOperationError,
  QueueOperations,
  createWorkerConnection,
  siteGroup,
  type ConnectorSummary,
  type MoveResult,
} from '@mailbus/queue';
import { siteConfig } from '@mailbus/config';
import { createDsnSender } from '../dsn-sender.js';
import { formatOrganization } from './connector-status-text.js';
import { deletedMessageDsn } from '../deleted-message-dsn.js';
import { configPath, readConfig } from '../read-config.js';
import { cliRedisTarget } from '../redis-target.js';
import { waitReachable } from '../redis-reachable.js';
import { UsageError, UserError } from '../usage-error.js';
import { cliAudit } from '../cli-audit.js';
import { plural } from '../plural.js';
import {
  age,
  checkListFlags,
  formatMessage,
  jobIdsOf,
  listMessages,
  movedLine,
} from './queue-actions.js';

const OPTIONS = {
  config: { type: 'string' },
  redis: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  state: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  to: { type: 'string' },
  dsn: { type: 'boolean' },
  'virtual-server': { type: 'string' },
} as const;

/** Each subcommand and the positional arguments it needs. */
const SUBCOMMANDS: Record<'connector' | 'queue', Record<string, string[]>> = {
  connector: { status: [], freeze: ['NAME'], unfreeze: ['NAME'], retry: ['NAME'] },
  queue: {
    list: [],
    delete: ['CONNECTOR', 'ID'],
    move: ['CONNECTOR', 'ID'],
    'move-all': ['CONNECTOR'],
  },
};

function formatConnector(c: ConnectorSummary): string {
  const d = c.depth;
  const state = `${c.link.state}${c.frozen ? ',frozen' : ''}`;
  const err = c.link.lastError ? `  last error: ${c.link.lastError}` : '';
  return `${c.name.padEnd(16)} ${state.padEnd(14)} waiting ${d.waiting}  delayed ${d.delayed}  retrying ${d.retrying}  held ${d.held}  active ${d.active}  failed ${d.failed}  oldest ${age(c.oldestAgeSeconds)}${err}`;
}

/** `mailbus connector …` and `mailbus queue …`: the admin operations from a terminal, on Redis directly. */
export async function operationsCommand(
  kind: 'connector' | 'queue',
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [sub, a, b] = positionals;
  const known = SUBCOMMANDS[kind];
  if (!sub) throw new UsageError(`a subcommand is required (${Object.keys(known).join(', ')})`);
  const needs = known[sub];
  if (!needs)
    throw new UsageError(
      `unknown subcommand "${sub}" (${kind} subcommands: ${Object.keys(known).join(', ')})`,
    );
  if (positionals.length - 1 < needs.length)
    throw new UsageError(`${sub} needs ${needs.join(' ')}`);
  if ((sub === 'move' || sub === 'move-all') && !values.to)
    throw new UsageError(`${sub} needs --to CONNECTOR`);
  if (sub === 'list') checkListFlags(values);
  const config = readConfig(configPath(values.config, env, values['data-dir']), env);
  const vs = values['virtual-server'];
  if (vs && !config.virtualServers.some((v) => v.name.toLowerCase() === vs.toLowerCase()))
    throw new UserError(
      `--virtual-server ${vs}: no such virtual server (known: ${config.virtualServers.map((v) => v.name).join(', ')})`,
    );
  // A site's node: its routing group's Redis (DESIGN 7), unless --redis names one.
  const target = cliRedisTarget(siteConfig(config, vs), values.redis, values['data-dir'], env);
  const redis = createWorkerConnection(target);
  const queue = new MailQueue(redis, config, 'cli');
  const dsn = createDsnSender(config);
  const ops = new QueueOperations(queue, {
    routingGroup: siteGroup(config, vs, target.url),
    sendDsn: (job, reason) => dsn(deletedMessageDsn(job, reason), queue),
  });
  const print = (v: unknown, text: () => string[]) => {
    if (values.json) out(JSON.stringify(v, null, 2));
    else for (const l of text()) out(l);
  };
  const need = (v: string | undefined): string => v ?? '';
  const audit = cliAudit();
  try {
    await waitReachable(redis, target);
    if (kind === 'connector') {
      switch (sub) {
        case 'status': {
          const now = Date.now();
          const org = a ? undefined : await ops.organization(now);
          if (org) {
            print(org, () =>
              formatOrganization(org, now, (c) => (c.status ? formatConnector(c.status) : c.name)),
            );
            return 0;
          }
          const list = a ? [await ops.connector(a, Date.now())] : await ops.connectors(Date.now());
          print(list, () => list.map(formatConnector));
          return 0;
        }
        case 'freeze': {
          const connector = ops.resolve(need(a));
          await ops.freeze(connector);
          audit('freeze', { connector });
          out(`${connector}: frozen (mail keeps queueing; unfreeze to deliver)`);
          return 0;
        }
        case 'unfreeze': {
          const connector = ops.resolve(need(a));
          await ops.unfreeze(connector);
          audit('unfreeze', { connector });
          out(`${connector}: delivering`);
          return 0;
        }
        default: {
          const connector = ops.resolve(need(a));
          const r = await ops.retryNow(connector);
          audit('retry', { connector, ...r });
          out(
            `${connector}: ${plural(r.promoted, 'message')} released for delivery now${r.retried > 0 ? `, ${plural(r.retried, 'parked (failed) message')} retried` : ''}`,
          );
          return 0;
        }
      }
    }
    switch (sub) {
      case 'list': {
        const list = await listMessages(ops, a, values);
        print(list, () => list.map((m) => formatMessage(m, !a)));
        if (!a && !values.json) out(`-- ${plural(list.length, 'message')}`);
        return 0;
      }
      case 'delete': {
        const connector = ops.resolve(need(a));
        for (const jobId of await jobIdsOf(ops, connector, need(b))) {
          const r = await ops.deleteMessage(connector, jobId, { dsn: Boolean(values.dsn) });
          audit('delete', { connector, jobId: r.jobId, message_id: r.queueId, dsn: r.dsn });
          out(
            `deleted ${r.jobId} (queue id ${r.queueId})${r.dsn ? ', DSN sent to the sender' : ', no DSN'}`,
          );
        }
        return 0;
      }
      case 'move': {
        const results: MoveResult[] = [];
        for (const jobId of await jobIdsOf(ops, need(a), need(b))) {
          const r = await ops.moveMessage(need(a), jobId, need(values.to));
          audit('move', {
            connector: r.from,
            to: r.to,
            jobId: r.oldJobId,
            message_id: r.queueId,
          });
          results.push(r);
        }
        print(results.length === 1 ? results[0] : results, () =>
          results.map((r) => `moved ${r.oldJobId} (queue id ${r.queueId}) to ${r.to}`),
        );
        return 0;
      }
      default: {
        const from = ops.resolve(need(a));
        const to = ops.resolve(need(values.to));
        const r = await ops.moveQueue(from, to);
        audit('move-queue', { connector: from, to, ...r });
        out(movedLine(r.moved, from, to, r.skipped));
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof QueueOperationError) throw new UserError(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
