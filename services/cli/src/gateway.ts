import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Config, VirtualServer } from '@mailbus/config';
import { parseListen } from '@mailbus/config';
import { Bridgehead, type DsnRequest } from '@mailbus/bridgehead';
import { SmtpIngress, UserDirectory } from '@mailbus/ingress';
import { ProtocolLogWriter } from '@mailbus/protocol-log';
import {
  checkRedisSettings,
  createProducerConnection,
  createWorkerConnection,
  MailQueue,
} from '@mailbus/queue';
import { createLogger, Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import { EmbeddedRedis } from './embedded-redis.js';
import { UserError } from './usage-error.js';

export type Role = 'ingress' | 'bridgehead' | 'admin';
export const ALL_ROLES: readonly Role[] = ['ingress', 'bridgehead', 'admin'];

export interface GatewayOptions {
  config: Config;
  roles?: readonly Role[];
  /** Run only this virtual server (default: all of them). */
  virtualServer?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Overrides for tests: BullMQ lock duration / stalled interval. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Send DSNs (wired by the composition root). */
  sendDsn?: (req: DsnRequest, queue: MailQueue) => Promise<void>;
}

/**
 * The composition root: starts the roles this process runs against one Redis
 * (an embedded redis-server when none is configured), and stops them in order.
 */
export class Gateway {
  readonly roles: readonly Role[];
  readonly logger: Logger;
  readonly metrics = new Metrics();
  readonly ingresses: SmtpIngress[] = [];
  bridgehead: Bridgehead | undefined;
  embeddedRedis: EmbeddedRedis | undefined;
  private producer: Redis | undefined;
  private worker: Redis | undefined;
  private ingressQueue: MailQueue | undefined;
  workerQueue: MailQueue | undefined;
  private readonly protocolLogs = new Map<string, ProtocolLogWriter>();
  private downTimer: NodeJS.Timeout | undefined;
  private down: ReadonlySet<string> = new Set();
  private closing: Promise<void> | undefined;
  redisUrl = '';

  constructor(private readonly o: GatewayOptions) {
    this.roles = o.roles ?? ALL_ROLES;
    const c = o.config.logging;
    this.logger =
      o.logger ?? createLogger({ name: 'mailbus', level: c.level, categories: c.categories });
  }

  private virtualServers(): VirtualServer[] {
    const all = this.o.config.virtualServers;
    if (!this.o.virtualServer) return [...all];
    const vs = all.filter((v) => v.name.toLowerCase() === this.o.virtualServer?.toLowerCase());
    if (vs.length === 0)
      throw new UserError(
        `--virtual-server ${this.o.virtualServer}: no such virtual server (known: ${all.map((v) => v.name).join(', ')})`,
      );
    return vs;
  }

  async start(): Promise<void> {
    const { config } = this.o;
    const env = this.o.env ?? {};
    const vss = this.virtualServers();
    const node = `${hostname()}:${process.pid}`;
    const r = config.redis;
    if (!r.url && !r.sentinel && !r.cluster) {
      this.embeddedRedis = await EmbeddedRedis.start();
      this.logger.info(
        { url: this.embeddedRedis.url, dir: this.embeddedRedis.dir },
        'started embedded redis-server (AOF always, noeviction)',
      );
    }
    const target = this.embeddedRedis
      ? { url: this.embeddedRedis.url }
      : { ...(r.url ? { url: r.url } : {}), ...(r.sentinel ? { sentinel: r.sentinel } : {}) };
    this.redisUrl = target.url ?? '(sentinel)';
    this.worker = createWorkerConnection(target);
    const check = await checkRedisSettings(this.worker, r.durability, r.strict).catch(
      (e: unknown) => {
        throw new UserError(
          `MAILBUS_ERR_REDIS_UNREACHABLE: cannot reach Redis at ${this.redisUrl}: ${(e as Error).message}`,
        );
      },
    );
    for (const w of check.warnings) this.logger.warn(w);
    if (check.errors.length > 0) throw new UserError(check.errors.join('\n'));

    for (const vs of vss) {
      if (!vs.protocolLog.enabled) continue;
      this.protocolLogs.set(
        vs.name,
        new ProtocolLogWriter({
          directory: vs.protocolLog.directory,
          virtualServer: vs.name,
          period: vs.protocolLog.period,
          localTimeForNaming: vs.protocolLog.localTimeForNaming,
          fields: vs.protocolLog.fields,
          ...(vs.protocolLog.maxSizeMB ? { maxSizeMB: vs.protocolLog.maxSizeMB } : {}),
        }),
      );
    }

    this.workerQueue = new MailQueue(this.worker, config, node);
    if (this.roles.includes('bridgehead')) {
      const queue = this.workerQueue;
      this.bridgehead = new Bridgehead({
        config,
        virtualServers: vss,
        queue,
        workerConnection: this.worker,
        logger: this.logger.child({ role: 'bridgehead' }),
        metrics: this.metrics,
        protocolLogs: this.protocolLogs,
        env,
        readFile: (p) => readFileSync(p, 'utf8'),
        sendDsn: (req) => (this.o.sendDsn ? this.o.sendDsn(req, queue) : Promise.resolve()),
        ...(this.o.lockDurationMs ? { lockDurationMs: this.o.lockDurationMs } : {}),
        ...(this.o.stalledIntervalMs ? { stalledIntervalMs: this.o.stalledIntervalMs } : {}),
      });
      this.bridgehead.start();
    }
    if (this.roles.includes('ingress')) {
      this.producer = createProducerConnection(target, r.commandTimeout);
      const queue = new MailQueue(this.producer, config, node);
      this.ingressQueue = queue;
      const names = config.connectors.map((c) => c.name);
      const refresh = () => {
        queue.links.down(names, Date.now()).then(
          (d) => (this.down = d),
          () => undefined,
        );
      };
      refresh();
      this.downTimer = setInterval(refresh, 1000);
      this.downTimer.unref();
      for (const vs of vss) {
        const tls = vs.tls
          ? { key: readFileSync(vs.tls.key), cert: readFileSync(vs.tls.cert) }
          : undefined;
        const users = vs.auth ? UserDirectory.fromFile(vs.auth.usersFile) : undefined;
        const ingress = new SmtpIngress({
          config,
          virtualServer: vs,
          queue,
          logger: this.logger.child({ role: 'ingress', virtual_server: vs.name, category: 'smtp' }),
          metrics: this.metrics,
          downConnectors: () => this.down,
          ...(this.protocolLogs.get(vs.name)
            ? { protocolLog: this.protocolLogs.get(vs.name) as ProtocolLogWriter }
            : {}),
          ...(tls ? { tls } : {}),
          ...(users ? { users } : {}),
        });
        const l = parseListen(vs.listen);
        if (!l) throw new UserError(`virtual server ${vs.name}: bad listen address ${vs.listen}`);
        await ingress.listen(l.host, l.port).catch((e: unknown) => {
          throw new UserError(
            `MAILBUS_ERR_LISTEN: virtual server ${vs.name} cannot listen on ${vs.listen}: ${(e as Error).message}`,
          );
        });
        this.ingresses.push(ingress);
      }
    }
  }

  /** Where each virtual server listens, once started. */
  listening(): Array<{ virtualServer: string; host: string; port: number }> {
    return this.ingresses.flatMap((i) => {
      const a = i.address();
      return a ? [{ virtualServer: i.vs.name, ...a }] : [];
    });
  }

  /**
   * Stops in order: stop accepting SMTP and finish sessions, finish deliveries
   * in flight, close queues and Redis, flush protocol logs. Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (this.downTimer) clearInterval(this.downTimer);
        await Promise.all(this.ingresses.map((i) => i.close()));
        await this.bridgehead?.close();
        await this.ingressQueue?.close();
        await this.workerQueue?.close();
        await Promise.all(
          [this.producer, this.worker].map((c) => c?.quit().catch(() => c.disconnect())),
        );
        await Promise.all([...this.protocolLogs.values()].map((w) => w.close()));
        await this.embeddedRedis?.stop();
      })();
    }
    return this.closing;
  }
}
