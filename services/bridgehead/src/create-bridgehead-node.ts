import type { Config, VirtualServer } from '@mailbus/config';
import type { ProtocolLogWriter } from '@mailbus/protocol-log';
import type { MailQueue, RedisClient } from '@mailbus/queue';
import { hasSites } from '@mailbus/routing';
import type { Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import { Bridgehead } from './create-bridgehead.js';
import type { DsnRequest } from './dsn-request.js';
import { LinkStateExchange } from './link-state-exchange.js';
import type { ReceiveOn } from './turn-after-delivery.js';

export interface BridgeheadNodeDeps {
  config: Config;
  /** Virtual servers this node runs; it delivers for connectors whose bridgeheads name one of them. */
  virtualServers: readonly VirtualServer[];
  queue: MailQueue;
  /** Connection for BullMQ workers (maxRetriesPerRequest null). */
  workerConnection: RedisClient;
  logger: Logger;
  metrics: Metrics;
  /** Per virtual server name, shared with the ingress of the same process. */
  protocolLogs: ReadonlyMap<string, ProtocolLogWriter>;
  sendDsn: (req: DsnRequest) => Promise<void>;
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Serves SMTP on a connection TURN/ATRN reversed, as that virtual server's ingress. */
  receiveOn?: ReceiveOn;
}

/**
 * The bridgehead role of a process: the delivery workers and, with routing
 * groups, the link-state exchange with each connected group
 * (docs/routing-groups.md). The composition root only starts and closes it.
 */
export class BridgeheadNode {
  readonly bridgehead: Bridgehead;
  private readonly linkExchanges: LinkStateExchange[] = [];

  constructor(private readonly deps: BridgeheadNodeDeps) {
    this.bridgehead = new Bridgehead({
      ...deps,
      logger: deps.logger.child({ role: 'bridgehead' }),
    });
  }

  /** Resolves once the workers are connected and taking jobs: "running" means delivering. */
  async start(): Promise<void> {
    const { config, queue } = this.deps;
    this.bridgehead.start();
    await this.bridgehead.ready();
    if (!hasSites(config)) return;
    for (const vs of this.deps.virtualServers) {
      const logger = this.deps.logger.child({ role: 'bridgehead', virtual_server: vs.name });
      const protocolLog = this.deps.protocolLogs.get(vs.name);
      const x = new LinkStateExchange({
        config,
        virtualServer: vs,
        queue,
        logger,
        outbound: this.bridgehead.outbound,
        security: this.bridgehead.security,
        ...(protocolLog ? { protocolLog } : {}),
      });
      x.start();
      this.linkExchanges.push(x);
    }
  }

  /** Starts the connection times (advanced.server): once this process's ingress listens. */
  startConnectionTimes(): void {
    this.bridgehead.startConnectionTimes();
  }

  /** Stops the link-state exchange, then finishes deliveries in flight. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.linkExchanges.map((x) => x.close()));
    await this.bridgehead.close();
  }
}

/** The bridgehead role of a process, not started yet. */
export function createBridgeheadNode(deps: BridgeheadNodeDeps): BridgeheadNode {
  return new BridgeheadNode(deps);
}
