import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Config, VirtualServer } from '@mailbus/config';
import { parseListen } from '@mailbus/config';
import type { AdminServer } from '@mailbus/admin';
import { queueSamples } from '@mailbus/admin/queue-samples';
import { createBridgeheadNode, type BridgeheadNode, type DsnRequest } from '@mailbus/bridgehead';
import { createIngressNode, IngressStartError, type IngressNode } from '@mailbus/ingress';
import { ProtocolLogWriter } from '@mailbus/protocol-log';
import {
  checkClusterSettings,
  checkRedisSettings,
  closeConnection,
  createWorkerConnection,
  describeRedisTarget,
  isCluster,
  MailQueue,
  QueueOperations,
  siteGroup,
  redisTargetOf,
  withDeadline,
  type ConnectionEndedHandler,
  type RedisClient,
} from '@mailbus/queue';
import { createLogger, Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import { adminTokenFromFile } from './admin-token-file.js';
import { EmbeddedRedis } from './embedded-redis.js';
import { NodeHttp } from './node-http.js';
import { deletedMessageDsn } from './deleted-message-dsn.js';
import { UserError } from './usage-error.js';
import { REDIS_REACH_TIMEOUT_MS, waitReachable } from './redis-reachable.js';

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
  /** Serve /healthz, /readyz, /metrics on admin.listen even when its port is 0 (tests). */
  nodeHttp?: boolean;
  /** This process's health/metrics (and admin) listener, instead of admin.listen. */
  httpListen?: string;
  /** Where the embedded Redis keeps its AOF and run file (default ./.mailbus). */
  dataDir?: string;
  /**
   * The embedded default only: without a configured admin secret, the admin
   * uses the token in this file (created, mode 600, on first use).
   */
  adminTokenFile?: string;
  /** Send DSNs (wired by the composition root). */
  sendDsn?: (req: DsnRequest, queue: MailQueue) => Promise<void>;
}

/**
 * The composition root: starts the roles this process runs against one Redis
 * (an embedded redis-server when none is configured), and stops them in order.
 * The ingress and bridgehead roles are their own nodes (createIngressNode,
 * createBridgeheadNode): this only orders them.
 */
export class Gateway {
  readonly roles: readonly Role[];
  readonly logger: Logger;
  readonly metrics = new Metrics();
  /** The ingress role, when this process runs it. */
  ingressNode: IngressNode | undefined;
  /** The bridgehead role, when this process runs it. */
  bridgeheadNode: BridgeheadNode | undefined;
  admin: AdminServer | undefined;
  nodeHttp: NodeHttp | undefined;
  /** Set when admin.tokenEnv was unset and the admin uses the token kept in this file. */
  adminTokenFile: string | undefined;
  embeddedRedis: EmbeddedRedis | undefined;
  /** With the embedded Redis: messages still queued when it stopped (delivered on the next start). */
  queuedAtStop: number | undefined;
  private ops: QueueOperations | undefined;
  private worker: RedisClient | undefined;
  workerQueue: MailQueue | undefined;
  private readonly protocolLogs = new Map<string, ProtocolLogWriter>();
  private closing: Promise<void> | undefined;
  /** Aborted by close(): a stop while the embedded Redis still starts stops it too. */
  private readonly starting = new AbortController();
  private embeddedStart: Promise<EmbeddedRedis> | undefined;
  redisUrl = '';
  /** A Redis connection that ended by itself is connected again (connection-supervisor.ts). */
  private readonly revived: ConnectionEndedHandler = (e) => {
    this.logger.warn(e, 'redis connection ended; connecting it again');
    this.metrics.redisConnectionsRevived.inc({ connection: e.connection });
  };

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
      if (this.closing) throw new UserError('stopped before the embedded redis-server started');
      this.embeddedStart = EmbeddedRedis.start(this.o.dataDir ?? '.mailbus', {
        signal: this.starting.signal,
      });
      this.embeddedRedis = await this.embeddedStart;
      this.logger.info(
        { url: this.embeddedRedis.url, dir: this.embeddedRedis.dir },
        'started embedded redis-server (AOF always, noeviction)',
      );
    }
    const target = this.embeddedRedis ? { url: this.embeddedRedis.url } : redisTargetOf(r);
    this.redisUrl = describeRedisTarget(target);
    const worker = createWorkerConnection(target, this.revived);
    this.worker = worker;
    await waitReachable(worker, target);
    // A cluster: every master holds some queues, so every master is checked.
    const check = await (
      isCluster(worker)
        ? checkClusterSettings(worker, r.durability, r.strict)
        : checkRedisSettings(worker, r.durability, r.strict)
    ).catch((e: unknown) => {
      throw new UserError(
        `MAILBUS_ERR_REDIS_UNREACHABLE: cannot reach Redis at ${this.redisUrl}: ${(e as Error).message}`,
      );
    });
    for (const w of check.warnings) this.logger.warn(w);
    if (check.errors.length > 0) throw new UserError(check.errors.join('\n'));

    for (const vs of vss) {
      if (!vs.protocolLog.enabled) continue;
      this.protocolLogs.set(
        vs.name,
        new ProtocolLogWriter({
          directory: vs.protocolLog.directory,
          virtualServer: vs.name,
          node: `${hostname()}-${process.pid}`,
          period: vs.protocolLog.period,
          localTimeForNaming: vs.protocolLog.localTimeForNaming,
          fields: vs.protocolLog.fields,
          ...(vs.protocolLog.maxSizeMB ? { maxSizeMB: vs.protocolLog.maxSizeMB } : {}),
        }),
      );
    }

    this.workerQueue = new MailQueue(worker, config, node);
    const sendDsn = (req: DsnRequest) =>
      this.o.sendDsn && this.workerQueue
        ? this.o.sendDsn(req, this.workerQueue)
        : Promise.resolve();
    const ops = new QueueOperations(this.workerQueue, {
      routingGroup: siteGroup(config, this.o.virtualServer, config.redis.url),
      sendDsn: (job, reason) => sendDsn(deletedMessageDsn(job, reason)),
    });
    this.ops = ops;
    this.metrics.setQueueCollector(async () => queueSamples(await ops.connectors(Date.now())));
    const isReady = async () => (await worker.ping().catch(() => '')) === 'PONG';
    if (this.roles.includes('bridgehead')) {
      this.bridgeheadNode = createBridgeheadNode({
        config,
        virtualServers: vss,
        queue: this.workerQueue,
        workerConnection: worker,
        logger: this.logger,
        metrics: this.metrics,
        protocolLogs: this.protocolLogs,
        env,
        readFile: (p) => readFileSync(p, 'utf8'),
        sendDsn,
        receiveOn: (vs, socket) => this.receiveOn(vs, socket),
        ...(this.o.lockDurationMs ? { lockDurationMs: this.o.lockDurationMs } : {}),
        ...(this.o.stalledIntervalMs ? { stalledIntervalMs: this.o.stalledIntervalMs } : {}),
      });
      await this.bridgeheadNode.start();
    }
    // A bridgehead whose connector issues TURN receives on reversed connections:
    // without the ingress role, through an ingress node that does not listen.
    const receiving =
      this.roles.includes('bridgehead') &&
      config.connectors.some((c) => c.advanced.request === 'turn');
    if (this.roles.includes('ingress') || receiving) {
      this.ingressNode = createIngressNode({
        config,
        virtualServers: vss,
        redis: target,
        node,
        logger: this.logger,
        metrics: this.metrics,
        protocolLogs: this.protocolLogs,
        ...(this.o.sendDsn ? { sendDsn: this.o.sendDsn } : {}),
        onConnectionEnded: this.revived,
        listen: this.roles.includes('ingress'),
        // As long as start waited for the worker connection to the same Redis.
        readyTimeoutMs: REDIS_REACH_TIMEOUT_MS,
      });
      await this.ingressNode.start().catch((e: unknown) => {
        throw e instanceof IngressStartError ? new UserError(`${e.code}: ${e.message}`) : e;
      });
    }
    // ETRN/TURN at connection times: once this process's ingress can take what they release.
    this.bridgeheadNode?.startConnectionTimes();
    const listen = this.o.httpListen ?? config.admin.listen;
    const http = parseListen(listen);
    if (!http) throw new UserError(`admin.listen: bad address ${listen}`);
    if (this.roles.includes('admin')) {
      let token = config.admin.tokenEnv ? env[config.admin.tokenEnv] : undefined;
      const basicPassword = config.admin.basicAuth
        ? env[config.admin.basicAuth.passwordEnv]
        : undefined;
      if (!token && !basicPassword && this.o.adminTokenFile) {
        // The embedded default only (npm start on a laptop): a token kept in a
        // mode-600 file of the data directory, never printed. Anything else
        // without a configured secret refuses to start (MAILBUS_ERR_ADMIN_NO_AUTH).
        token = adminTokenFromFile(this.o.adminTokenFile);
        this.adminTokenFile = this.o.adminTokenFile;
        this.logger.warn(
          `admin: ${config.admin.tokenEnv ?? 'admin.tokenEnv'} is not set; using the token in ${this.o.adminTokenFile}`,
        );
      }
      // Loaded only here: Bull Board and fastify cost every other process ~25 MiB and start-up time.
      const { createAdmin } = await import('@mailbus/admin');
      this.admin = await createAdmin({
        config,
        queue: this.workerQueue,
        ops,
        metrics: this.metrics,
        logger: this.logger.child({ role: 'admin' }),
        isReady,
        ...(token ? { token } : {}),
        ...(config.admin.basicAuth && basicPassword
          ? { basicAuth: { username: config.admin.basicAuth.username, password: basicPassword } }
          : {}),
      }).catch((e: unknown) => {
        const code = (e as { code?: string }).code;
        throw code ? new UserError(`${code}: ${(e as Error).message}`) : e;
      });
      await this.admin.listen(http.host, http.port).catch((e: unknown) => {
        throw new UserError(
          `MAILBUS_ERR_LISTEN: admin cannot listen on ${listen}: ${(e as Error).message} (each process on a host needs its own --http-listen HOST:PORT or MAILBUS_HTTP_LISTEN)`,
        );
      });
    } else if (http.port !== 0 || this.o.nodeHttp) {
      // Ingress or bridgehead alone: /healthz, /readyz and this process's /metrics.
      const nodeHttp = new NodeHttp(this.metrics, isReady);
      await nodeHttp.listen(http.host, http.port).then(
        () => (this.nodeHttp = nodeHttp),
        (e: unknown) =>
          this.logger.warn(
            `health and metrics endpoint not started: ${listen}: ${(e as Error).message}; give each process on a host its own --http-listen HOST:PORT or MAILBUS_HTTP_LISTEN`,
          ),
      );
    }
  }

  /** A connection TURN/ATRN reversed: this process's ingress receives on it as the virtual server. */
  private receiveOn(virtualServer: string, socket: Socket): Promise<void> {
    if (this.ingressNode) return this.ingressNode.receiveOn(virtualServer, socket);
    socket.destroy();
    return Promise.resolve();
  }

  /** Where each virtual server listens, once started. */
  listening(): Array<{ virtualServer: string; host: string; port: number }> {
    return this.ingressNode?.listening() ?? [];
  }

  /**
   * Stops in order: stop accepting SMTP and finish sessions, finish deliveries
   * in flight, close queues and Redis, flush protocol logs. Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.starting.abort();
      this.closing = (async () => {
        await this.ingressNode?.close();
        await this.admin?.close();
        await this.nodeHttp?.close();
        await this.bridgeheadNode?.close();
        if (this.embeddedRedis && this.ops) {
          const list = await withDeadline(this.ops.connectors(Date.now()), 3000);
          if (list)
            this.queuedAtStop = list.reduce(
              (n, c) =>
                n +
                c.depth.waiting +
                c.depth.delayed +
                c.depth.retrying +
                c.depth.held +
                c.depth.active,
              0,
            );
        }
        // Queues and connections get a deadline: with Redis gone, BullMQ's close
        // and QUIT on a reconnecting client would wait forever.
        await withDeadline(this.workerQueue?.close(), 5000);
        await closeConnection(this.worker);
        await Promise.all([...this.protocolLogs.values()].map((w) => w.close()));
        // Stopped during start: the embedded Redis may still be starting (its
        // start, aborted above, stops the child itself before it settles).
        const embedded = this.embeddedRedis ?? (await this.embeddedStart?.catch(() => undefined));
        await embedded?.stop();
      })();
    }
    return this.closing;
  }
}
