import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Config, VirtualServer } from '@mailbus/config';
import { parseListen, readConfigFile } from '@mailbus/config';
import type { ProtocolLogWriter } from '@mailbus/protocol-log';
import {
  closeConnection,
  createProducerConnection,
  MailQueue,
  whenReady,
  withDeadline,
  type ConnectionEndedHandler,
  type RedisClient,
  type RedisTarget,
} from '@mailbus/queue';
import { downAcrossSites } from '@mailbus/routing';
import type { Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import type { IngressDsnRequest } from './receive-message.js';
import { SmtpIngress } from './smtp-ingress.js';
import { UserDirectory } from './user-directory.js';

/** Why an ingress node could not start, with the code the CLI prints first. */
export class IngressStartError extends Error {
  constructor(
    readonly code: 'MAILBUS_ERR_LISTEN',
    message: string,
  ) {
    super(message);
    this.name = 'IngressStartError';
  }
}

export interface IngressNodeDeps {
  config: Config;
  /** The virtual servers this node accepts SMTP for. */
  virtualServers: readonly VirtualServer[];
  /** Where Redis is: the node opens its own fail-fast producer connection to it. */
  redis: RedisTarget;
  /** This process's name in queue records (host:pid). */
  node: string;
  logger: Logger;
  metrics: Metrics;
  /** Per virtual server name, shared with the bridgehead of the same process. */
  protocolLogs: ReadonlyMap<string, ProtocolLogWriter>;
  /** Queues a DSN through the node's queue (wired by the composition root). */
  sendDsn?: (req: IngressDsnRequest, queue: MailQueue) => Promise<void>;
  /** Told when the producer connection ended by itself and is connected again. */
  onConnectionEnded?: ConnectionEndedHandler;
  /** false: no listener, only receiveOn (a bridgehead-only process whose TURN reversed a connection). */
  listen?: boolean;
  /** How long start waits for the producer connection to be ready (default: redis.commandTimeout). */
  readyTimeoutMs?: number;
}

/**
 * The ingress role of a process: one SMTP server per virtual server over one
 * producer connection, and the connectors marked down (refreshed every
 * second) that routing puts last. The composition root only starts and closes it.
 */
export class IngressNode {
  readonly ingresses: SmtpIngress[] = [];
  private producer: RedisClient | undefined;
  private queue: MailQueue | undefined;
  private downTimer: NodeJS.Timeout | undefined;
  private down: ReadonlySet<string> = new Set();
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: IngressNodeDeps) {}

  /** The connectors routing currently puts last (as of the last refresh). */
  get downConnectors(): ReadonlySet<string> {
    return this.down;
  }

  /** Connects to Redis and listens on every virtual server; rejects with IngressStartError when one cannot listen. */
  async start(): Promise<void> {
    const { config } = this.deps;
    const vss = this.deps.virtualServers;
    const producer = createProducerConnection(
      this.deps.redis,
      config.redis.commandTimeout,
      this.deps.onConnectionEnded,
    );
    this.producer = producer;
    // Fail-fast connections refuse commands until ready (a cluster: until
    // it has the slot map): wait, as the composition root waits for its own
    // connection, so the first message is not a 451.
    const readyMs = this.deps.readyTimeoutMs ?? config.redis.commandTimeout;
    if (!(await whenReady(producer, readyMs)))
      this.deps.logger.warn(
        `ingress: the Redis producer connection is not ready after ${readyMs} ms; listening anyway, mail is answered 451 until it is`,
      );
    const queue = new MailQueue(producer, config, this.deps.node);
    this.queue = queue;
    const names = config.connectors.map((c) => c.name);
    const refresh = () => {
      const now = Date.now();
      // With sites, also what other routing groups reported about their connectors.
      Promise.all([queue.links.down(names, now), queue.siteLinks.all()]).then(
        ([d, reports]) => (this.down = downAcrossSites(config, vss[0]?.name, d, reports, now)),
        () => undefined,
      );
    };
    refresh();
    this.downTimer = setInterval(refresh, 1000);
    this.downTimer.unref();
    if (this.deps.listen === false) return;
    for (const vs of vss) {
      const ingress = this.ingressFor(vs, queue);
      const l = parseListen(vs.listen);
      if (!l)
        throw new IngressStartError(
          'MAILBUS_ERR_LISTEN',
          `virtual server ${vs.name}: bad listen address ${vs.listen}`,
        );
      await ingress.listen(l.host, l.port).catch((e: unknown) => {
        throw new IngressStartError(
          'MAILBUS_ERR_LISTEN',
          `virtual server ${vs.name} cannot listen on ${vs.listen}: ${(e as Error).message}`,
        );
      });
      this.ingresses.push(ingress);
    }
  }

  /** A virtual server's SMTP server on the node's queue, not listening yet. */
  private ingressFor(vs: VirtualServer, queue: MailQueue): SmtpIngress {
    const { config, logger, metrics } = this.deps;
    const sendDsn = this.deps.sendDsn;
    const at = `virtualServers[${config.virtualServers.indexOf(vs)}].tls`;
    const read = (file: string): Buffer => readFileSync(file);
    const tls = vs.tls
      ? {
          key: readConfigFile(`${at}.key`, vs.tls.key, read),
          cert: readConfigFile(`${at}.cert`, vs.tls.cert, read),
          ...(vs.tls.clientCa
            ? { ca: readConfigFile(`${at}.clientCa`, vs.tls.clientCa, read) }
            : {}),
        }
      : undefined;
    const users = vs.auth ? UserDirectory.fromFile(vs.auth.usersFile) : undefined;
    const protocolLog = this.deps.protocolLogs.get(vs.name);
    return new SmtpIngress({
      config,
      virtualServer: vs,
      queue,
      logger: logger.child({ role: 'ingress', virtual_server: vs.name, category: 'smtp' }),
      metrics,
      downConnectors: () => this.down,
      sendDsn: (req) => (sendDsn ? sendDsn(req, queue) : Promise.resolve()),
      ...(protocolLog ? { protocolLog } : {}),
      ...(tls ? { tls } : {}),
      ...(users ? { users } : {}),
    });
  }

  /**
   * Receives on a connection whose roles TURN or ATRN reversed
   * (SmtpIngress.receiveOn), as the named virtual server: its listening
   * server, or on a node that does not listen one made for it.
   */
  receiveOn(virtualServer: string, socket: Socket): Promise<void> {
    const same = (i: SmtpIngress) => i.vs.name.toLowerCase() === virtualServer.toLowerCase();
    let ingress = this.ingresses.find(same);
    const vs = this.deps.virtualServers.find((v) => same({ vs: v } as SmtpIngress));
    if (!ingress && vs && this.queue) {
      ingress = this.ingressFor(vs, this.queue);
      this.ingresses.push(ingress);
    }
    if (!ingress) {
      socket.destroy();
      return Promise.resolve();
    }
    return ingress.receiveOn(socket);
  }

  /** Where each virtual server listens, once started. */
  listening(): Array<{ virtualServer: string; host: string; port: number }> {
    return this.ingresses.flatMap((i) => {
      const a = i.address();
      return a ? [{ virtualServer: i.vs.name, ...a }] : [];
    });
  }

  /**
   * Stops accepting SMTP and lets open sessions finish, then closes the queue
   * and the producer connection (each with a deadline: with Redis gone, they
   * would wait forever). Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (this.downTimer) clearInterval(this.downTimer);
        await Promise.all(this.ingresses.map((i) => i.close()));
        await withDeadline(this.queue?.close(), 5000);
        await closeConnection(this.producer);
      })();
    }
    return this.closing;
  }
}

/** The ingress role of a process, not started yet. */
export function createIngressNode(deps: IngressNodeDeps): IngressNode {
  return new IngressNode(deps);
}
