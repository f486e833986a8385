import { randomUUID } from 'node:crypto';
import { parseConfig, type Config } from '@mailbus/config';
import {
  MailQueue,
  QueueOperations,
  createWorkerConnection,
  newQueueId,
  type DeliveryJobData,
  type QueueOperationsOptions,
} from '@mailbus/queue';
import { Metrics, createLogger } from '@mailbus/telemetry';
import type { RedisServer } from '@mailbus/testing';
import { createAdmin, type AdminOptions } from '../src/index.js';
import type { AdminServer } from '../src/index.js';

export const TOKEN = 's3cret-token';
export const BASIC = { username: 'operator', password: 'hunter2 with spaces' };

/** Connectors: Internet (2 partitions), Backup (schedule never), Partner (remote-triggered), then @local. */
export function adminConfig(prefix: string): Config {
  const r = parseConfig(`
organization: Contoso
redis: { prefix: "${prefix}" }
admin: { listen: "127.0.0.1:0", tokenEnv: MAILBUS_ADMIN_TOKEN }
recipientPolicies:
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]:25"] }
virtualServers:
  - { name: default, fqdn: mail.contoso.com, listen: "10.0.0.1:25" }
connectors:
  - name: Internet
    bridgeheads: [default]
    smartHosts: ["[192.0.2.25]"]
    addressSpaces: [{ domain: "*", cost: 1 }]
    partitions: 2
  - name: Backup
    bridgeheads: [default]
    smartHosts: ["[192.0.2.26]"]
    addressSpaces: [{ domain: "*", cost: 2 }]
    delivery: { schedule: never }
  - name: Partner
    bridgeheads: [default]
    smartHosts: ["[192.0.2.27]"]
    addressSpaces: [{ domain: partner.example, cost: 1 }]
    delivery: { remoteTriggered: true }
`);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.reason}`).join('\n'));
  return r.config;
}

export interface AdminFixture {
  admin: AdminServer;
  base: string;
  queue: MailQueue;
  ops: QueueOperations;
  metrics: Metrics;
  redis: MailQueue['redis'];
  dsns: Array<{ job: DeliveryJobData; reason: string }>;
  ready: { value: boolean };
  submit: (plan: string[], to?: string[]) => Promise<string>;
  close: () => Promise<void>;
}

export interface FixtureOptions {
  auth?: Pick<AdminOptions, 'token' | 'basicAuth'>;
  /** Leave sendDsn out of QueueOperations. */
  noDsn?: boolean;
  isReady?: AdminOptions['isReady'];
  probeTimeoutMs?: number;
}

/** A MailQueue on a fresh prefix, QueueOperations and a listening admin on a free loopback port. */
export async function startAdmin(
  server: RedisServer,
  options: FixtureOptions = {},
): Promise<AdminFixture> {
  const config = adminConfig(`a${randomUUID().slice(0, 8)}`);
  const redis = createWorkerConnection({ url: server.url });
  const queue = new MailQueue(redis, config, 'admin-test');
  const dsns: AdminFixture['dsns'] = [];
  const opsOptions: QueueOperationsOptions = options.noDsn
    ? {}
    : {
        sendDsn: async (job, reason) => {
          dsns.push({ job, reason });
        },
      };
  const ops = new QueueOperations(queue, opsOptions);
  const metrics = new Metrics({ processMetrics: false });
  const ready = { value: true };
  const admin = await createAdmin({
    config,
    queue,
    ops,
    metrics,
    logger: createLogger({ level: 'silent', name: 'admin' }),
    ...(options.auth ?? { token: TOKEN, basicAuth: BASIC }),
    isReady: options.isReady ?? (async () => ready.value),
    ...(options.probeTimeoutMs !== undefined ? { probeTimeoutMs: options.probeTimeoutMs } : {}),
  });
  await admin.listen('127.0.0.1', 0);
  const addr = admin.address();
  if (!addr) throw new Error('admin did not listen');
  const submit = async (plan: string[], to: string[] = ['bob@example.net']): Promise<string> => {
    const id = newQueueId();
    await queue.submit({
      id,
      body: Buffer.from('Subject: hi\r\n\r\nhello\r\n'),
      sender: 'alice@contoso.com',
      receivedAt: Date.now() - 5000,
      headerMessageId: `${id.toLowerCase()}@contoso.com`,
      priority: 'normal',
      system: false,
      virtualServer: 'default',
      groups: [{ plan, recipients: to.map((address) => ({ address })) }],
      trace: {},
      client: { ip: '127.0.0.1', helo: 'client.test', secure: false },
    });
    await queue.tracking.record(id, { type: 'received' }, [
      'alice@contoso.com',
      ...to,
      `${id.toLowerCase()}@contoso.com`,
    ]);
    return id;
  };
  return {
    admin,
    base: `http://127.0.0.1:${addr.port}`,
    queue,
    ops,
    metrics,
    redis,
    dsns,
    ready,
    submit,
    close: async () => {
      await admin.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
