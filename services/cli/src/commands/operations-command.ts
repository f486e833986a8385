import { parseArgs } from 'node:util';
import {
  MESSAGE_STATES,
  MailQueue,
  QueueOperationError,
  QueueOperations,
  createWorkerConnection,
  siteGroup,
  type ConnectorSummary,
  type MessageState,
} from '@mailbus/queue';
import { siteConfig } from '@mailbus/config';
import { createDsnSender } from '../dsn-sender.js';
import { formatOrganization } from './connector-status-text.js';
import { deletedMessageDsn } from '../deleted-message-dsn.js';
import { configPath, readConfig } from '../read-config.js';
import { cliRedisTarget } from '../redis-target.js';
import { waitReachable } from '../redis-reachable.js';
import { UsageError, UserError } from '../usage-error.js';

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

export const OPERATIONS_USAGE = `  connector status [NAME] [--json] [--virtual-server NAME]
                                                link state, frozen, queue depth, oldest message;
                                                with sites, every connector of the organisation by routing group
  connector freeze|unfreeze NAME                stop / resume delivery (mail keeps queueing)
  connector retry NAME                          deliver now: skip schedules and backoff, reset link state
  queue list CONNECTOR [--state S] [--limit N] [--offset N] [--json]
  queue delete CONNECTOR JOB-ID [--dsn]         remove a message, with or without a DSN to the sender
  queue move CONNECTOR JOB-ID --to CONNECTOR    move one message
  queue move-all CONNECTOR --to CONNECTOR       move a whole queue
    (all take [--config FILE] [--redis URL])`;

function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

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
  if (!sub) throw new UsageError(`mailbus ${kind}: a subcommand is required\n${OPERATIONS_USAGE}`);
  const config = readConfig(configPath(values.config, env), env);
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
  const need = (v: string | undefined, what: string): string => {
    if (!v)
      throw new UsageError(`mailbus ${kind} ${sub}: ${what} is required\n${OPERATIONS_USAGE}`);
    return v;
  };
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
        case 'freeze':
          await ops.freeze(need(a, 'NAME'));
          out(`${a}: frozen (mail keeps queueing; unfreeze to deliver)`);
          return 0;
        case 'unfreeze':
          await ops.unfreeze(need(a, 'NAME'));
          out(`${a}: delivering`);
          return 0;
        case 'retry': {
          const r = await ops.retryNow(need(a, 'NAME'));
          out(
            `${a}: ${r.promoted} messages released for delivery now${r.retried > 0 ? `, ${r.retried} parked (failed) messages retried` : ''}`,
          );
          return 0;
        }
        default:
          throw new UsageError(
            `mailbus connector: unknown subcommand "${sub}"\n${OPERATIONS_USAGE}`,
          );
      }
    }
    switch (sub) {
      case 'list': {
        const state = values.state as MessageState | undefined;
        if (state && !MESSAGE_STATES.includes(state))
          throw new UsageError(`--state must be one of ${MESSAGE_STATES.join(', ')}`);
        const list = await ops.listMessages(need(a, 'CONNECTOR'), {
          ...(state ? { state } : {}),
          ...(values.limit ? { limit: Number(values.limit) } : {}),
          ...(values.offset ? { offset: Number(values.offset) } : {}),
        });
        print(list, () =>
          list.map(
            (m) =>
              `${m.jobId.padEnd(24)} ${m.state} from <${m.sender}> to ${m.recipients.join(',')} ${m.size}B age ${age(m.ageSeconds)}` +
              `${m.nextAttemptAt ? ` next ${new Date(m.nextAttemptAt).toISOString()}` : ''}${m.lastError ? ` last error: ${m.lastError}` : ''}`,
          ),
        );
        return 0;
      }
      case 'delete': {
        const r = await ops.deleteMessage(need(a, 'CONNECTOR'), need(b, 'JOB-ID'), {
          dsn: Boolean(values.dsn),
        });
        out(
          `deleted ${r.jobId} (queue id ${r.queueId})${r.dsn ? ', DSN sent to the sender' : ', no DSN'}`,
        );
        return 0;
      }
      case 'move': {
        const r = await ops.moveMessage(
          need(a, 'CONNECTOR'),
          need(b, 'JOB-ID'),
          need(values.to, '--to CONNECTOR'),
        );
        print(r, () => [`moved ${b} to ${values.to}`]);
        return 0;
      }
      case 'move-all': {
        const r = await ops.moveQueue(need(a, 'CONNECTOR'), need(values.to, '--to CONNECTOR'));
        out(
          `moved ${r.moved} messages from ${a} to ${values.to}${r.skipped ? ` (${r.skipped} in delivery left in place)` : ''}`,
        );
        return 0;
      }
      default:
        throw new UsageError(`mailbus queue: unknown subcommand "${sub}"\n${OPERATIONS_USAGE}`);
    }
  } catch (e) {
    if (e instanceof QueueOperationError) throw new UserError(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
