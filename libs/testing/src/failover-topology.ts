import { DelayProxy } from './delay-proxy.js';
import { RedisCluster } from './redis-cluster.js';
import { RedisSentinelGroup } from './redis-sentinel.js';

/**
 * A replicated Redis whose primary can be killed and replaced, the same way
 * for Sentinel and Cluster: failover tests and bench/failover-soak.mjs drive
 * any of them.
 */
export interface FailoverTopology {
  /** What is failed over, for messages ("sentinel", "cluster"). */
  readonly kind: string;
  /** Where mailbus finds the servers: `redis:` entries in YAML flow style (`sentinel: {…}`, `cluster: {…}`). */
  readonly redisYaml: string;
  /** SIGKILLs the primary (Cluster: the master serving the queue's slot); returns its port. */
  killPrimary(): Promise<number>;
  /** Waits until a replica took over from `killed`; returns its port. */
  waitForPromotion(killed: number, timeoutMs?: number): Promise<number>;
  /** Starts `killed` again and waits until it is an in-sync replica: the next round starts whole. */
  heal(killed: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface SentinelTopologyOptions {
  /** Delay each chunk to and from every sentinel by this much (a DelayProxy in front of each); 0: none. */
  sentinelDelayMs?: number;
}

/** Primary, two replicas, three sentinels (RedisSentinelGroup). */
export class SentinelTopology implements FailoverTopology {
  readonly kind = 'sentinel';

  private constructor(
    readonly group: RedisSentinelGroup,
    private readonly proxies: DelayProxy[],
  ) {}

  static async start(options: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
    // Two replicas: with `replicated` (WAIT 1) the new primary needs a replica
    // of its own; with one it would refuse (451) until the dead primary came
    // back as a replica.
    const group = await RedisSentinelGroup.start({ name: 'mailbus', replicas: 2, sentinels: 3 });
    const delayMs = options.sentinelDelayMs ?? 0;
    const proxies =
      delayMs > 0
        ? await Promise.all(
            group.ports.map((port) =>
              DelayProxy.start({ target: { host: '127.0.0.1', port }, delayMs }),
            ),
          )
        : [];
    return new SentinelTopology(group, proxies);
  }

  get redisYaml(): string {
    const sentinels = this.proxies.length
      ? this.proxies.map((p) => p.address)
      : this.group.addresses;
    return `sentinel: { name: mailbus, sentinels: ${JSON.stringify(sentinels)} }`;
  }

  async killPrimary(): Promise<number> {
    const port = await this.group.primaryPort();
    await this.group.server(port).kill();
    return port;
  }

  waitForPromotion(killed: number, timeoutMs = 20_000): Promise<number> {
    return this.group.waitForFailover(killed, timeoutMs);
  }

  async heal(killed: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.group.server(killed).restart();
    // The sentinels make it a replica of the new primary (it starts as a
    // primary of its own until they reconfigure it).
    await this.group.waitForReplication(await this.group.primaryPort(), 2, deadline);
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.close()));
    await this.group.close();
  }
}

/** Three masters with two replicas each (RedisCluster); the master serving `slotKey` is the one killed. */
export class ClusterTopology implements FailoverTopology {
  readonly kind = 'cluster';

  private constructor(
    readonly cluster: RedisCluster,
    private readonly slotKey: string,
  ) {}

  /** `slotKey`: a key whose master is killed, e.g. a connector queue's `mailbus:{Sink}:wait`. */
  static async start(slotKey: string): Promise<ClusterTopology> {
    const cluster = await RedisCluster.start({ masters: 3, replicas: 2, timeoutMs: 60_000 });
    return new ClusterTopology(cluster, slotKey);
  }

  get redisYaml(): string {
    return `cluster: { nodes: ${JSON.stringify(this.cluster.seeds)} }`;
  }

  private async slot(): Promise<number> {
    const [any] = await this.cluster.masterPorts();
    return this.cluster.withNode(any ?? 0, async (c) =>
      Number(await c.call('CLUSTER', 'KEYSLOT', this.slotKey)),
    );
  }

  async killPrimary(): Promise<number> {
    const slot = await this.slot();
    const port = await this.cluster.ownerOf(slot);
    await this.cluster.kill(port);
    return port;
  }

  async waitForPromotion(killed: number, timeoutMs = 30_000): Promise<number> {
    return this.cluster.waitForFailover(killed, [await this.slot()], timeoutMs);
  }

  async heal(killed: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.cluster.restart(killed, timeoutMs);
    await this.cluster.waitForReplicas(2, deadline);
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}
