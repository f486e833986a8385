import type { Gateway, Role } from '@mailbus/cli';
import {
  QueueOperationError,
  QueueOperations,
  type MailQueue,
  type QueuedMessage,
} from '@mailbus/queue';
import {
  freePort,
  RedisServer,
  SinkServer,
  type RedisServerOptions,
  type SinkOptions,
} from '@mailbus/testing';
import { queueOf } from '../delivery-helpers.js';
import { queueDrained } from './queue-drained.js';
import { startGateway } from './start-gateway.js';

/** A started Redis of any kind (a redis-server, a cluster) the fixture stops last. */
export interface FixtureRedis {
  close(): Promise<void>;
}

/** What a test's config is written from: the started Redis, sinks and the free ports. */
export interface FixtureParts<S extends string, P extends string, R = RedisServer> {
  redis: R;
  sinks: Record<S, SinkServer>;
  ports: Record<P, number>;
}

export interface GatewayFixtureOptions<S extends string, P extends string, R = RedisServer> {
  /** Sink SMTP servers to start, by name (each with its own options). */
  sinks?: Record<S, SinkOptions>;
  /** Free loopback ports to pick, by name (the virtual servers' listen ports). */
  ports?: readonly P[];
  /** The gateway's config (YAML), written from the started parts. */
  config: (parts: FixtureParts<S, P, R>) => string;
  /** Default: ingress and bridgehead. */
  roles?: Role[];
  /** The gateway's environment (passwords). */
  env?: NodeJS.ProcessEnv;
  /** Receives every error-level log line of the gateway (JSON). */
  onError?: (line: string) => void;
  /** The redis-server's options (start only). */
  redis?: RedisServerOptions;
}

/**
 * One e2e test's world: a real redis-server, sink SMTP servers and a gateway
 * (ingress and bridgehead in this process) on a config written from their
 * ports. close() stops them in reverse order, whatever started.
 */
export class GatewayFixture<
  S extends string = never,
  P extends string = never,
  R extends FixtureRedis = RedisServer,
> implements FixtureParts<S, P, R> {
  private constructor(
    readonly redis: R,
    readonly sinks: Record<S, SinkServer>,
    readonly ports: Record<P, number>,
    private started: Gateway | undefined,
    private readonly options: GatewayFixtureOptions<S, P, R>,
  ) {}

  /** Starts a redis-server, the sinks and the gateway. */
  static async start<S extends string = never, P extends string = never>(
    o: GatewayFixtureOptions<S, P>,
  ): Promise<GatewayFixture<S, P>> {
    return GatewayFixture.startOn(await RedisServer.start(o.redis), o);
  }

  /**
   * The same world on a Redis the test started itself (a cluster, say): the
   * fixture owns it from here and stops it last.
   */
  static async startOn<R extends FixtureRedis, S extends string = never, P extends string = never>(
    redis: R,
    o: GatewayFixtureOptions<S, P, R>,
  ): Promise<GatewayFixture<S, P, R>> {
    const sinks = {} as Record<S, SinkServer>;
    const f = new GatewayFixture<S, P, R>(redis, sinks, {} as Record<P, number>, undefined, o);
    try {
      for (const [name, options] of Object.entries(o.sinks ?? {}) as Array<[S, SinkOptions]>)
        sinks[name] = await SinkServer.start(options);
      for (const name of o.ports ?? []) f.ports[name] = await freePort();
      await f.startGateway(o.config);
    } catch (err) {
      await f.close();
      throw err;
    }
    return f;
  }

  private async startGateway(config: (parts: FixtureParts<S, P, R>) => string): Promise<Gateway> {
    const o = this.options;
    this.started = await startGateway(
      config(this),
      o.roles ?? ['ingress', 'bridgehead'],
      o.onError,
      o.env ?? {},
    );
    return this.started;
  }

  /**
   * Closes the gateway and starts a new one on the same Redis, sinks and
   * ports: an operator's restart, with a changed config when given.
   */
  async restart(config?: (parts: FixtureParts<S, P, R>) => string): Promise<Gateway> {
    await this.closeGateway();
    return this.startGateway(config ?? this.options.config);
  }

  /** Closes the gateway alone (its logs flushed); Redis and the sinks stay up. */
  async closeGateway(): Promise<void> {
    const old = this.started;
    this.started = undefined;
    await old?.close();
  }

  /** The started gateway. */
  get gateway(): Gateway {
    if (!this.started) throw new Error('gateway not started');
    return this.started;
  }

  /** The bridgehead's queue facade of the gateway. */
  get queue(): MailQueue {
    return queueOf(this.gateway);
  }

  /**
   * The message's jobs still in a queue, with their states (as `mailbus queue
   * show` lists them); [] once it has left every queue.
   */
  async jobs(queueId: string): Promise<QueuedMessage[]> {
    try {
      return (await new QueueOperations(this.queue).message(queueId)).flatMap((m) => m.jobs);
    } catch (err) {
      if (err instanceof QueueOperationError && err.code === 'MAILBUS_ERR_UNKNOWN_MESSAGE')
        return [];
      throw err;
    }
  }

  /** Resolves once every accepted message has had its delivery (queueDrained). */
  drained(timeoutMs?: number): Promise<void> {
    return queueDrained(this.queue, timeoutMs);
  }

  /** Stops the gateway, then the sinks, then Redis. */
  async close(): Promise<void> {
    await this.closeGateway();
    await Promise.all(Object.values<SinkServer>(this.sinks).map((s) => s.close()));
    await this.redis.close();
  }
}
