import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRedisServer, type RedisServerProcess } from '@mailbus/redis-server';
import { Redis } from 'ioredis';
import { freePort, sleep } from './free-port.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Masters (default 3; Redis Cluster needs at least 3). */
  masters?: number;
  /** Replicas of each master (default 0). */
  replicas?: number;
  /** Give up starting after this long (default 20 s). */
  timeoutMs?: number;
}

interface Node {
  port: number;
  dir: string;
  /** Set as soon as it is spawned, so close() stops a node that is still starting. */
  redis: RedisServerProcess | undefined;
}

/**
 * A real Redis Cluster on loopback: N `redis-server --cluster-enabled yes`
 * (AOF always, noeviction, `cluster-node-timeout 2000`, each with its own
 * temporary directory) joined by `redis-cli --cluster create …
 * --cluster-replicas R`, ready once `CLUSTER INFO` says `cluster_state:ok` on
 * every node and every master has its R replicas in sync. A master can be
 * killed (its replica is promoted after about 2 s) and restarted.
 */
export class RedisCluster {
  private constructor(private readonly nodes: Node[]) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const replicas = options.replicas ?? 0;
    const n = (options.masters ?? 3) * (1 + replicas);
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    const nodes: Node[] = [];
    const cluster = new RedisCluster(nodes);
    try {
      for (let i = 0; i < n; i++) {
        const port = await freePort();
        const dir = mkdtempSync(join(tmpdir(), 'mailbus-cluster-'));
        nodes.push({ port, dir, redis: undefined });
      }
      await Promise.all(nodes.map((node) => launch(node, deadline - Date.now())));
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((x) => `127.0.0.1:${x.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { timeout: Math.max(1000, deadline - Date.now()) },
      );
      for (const node of nodes) {
        for (;;) {
          const info = await withClient(node.port, (c) => c.call('CLUSTER', 'INFO'));
          if (/cluster_state:ok/.test(String(info))) break;
          if (Date.now() > deadline)
            throw new Error(`cluster node ${node.port}: cluster_state not ok`);
          await sleep(100);
        }
      }
      if (replicas > 0) await cluster.waitForReplicas(replicas, deadline);
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  /** Seed nodes, host:port, as `redis.cluster.nodes` takes them. */
  get seeds(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /** Runs `fn` with a plain (non-cluster) client to one node, then disconnects. */
  withNode<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
    return withClient(port, fn);
  }

  /** Every key on one node matching `pattern` (SCAN, this node only). */
  async keysOn(port: number, pattern: string): Promise<string[]> {
    return withClient(port, async (c) => {
      const out: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        out.push(...keys);
      } while (cursor !== '0');
      return out;
    });
  }

  /** Ports of the nodes that are masters now, as a live node sees it (CLUSTER NODES). */
  async masterPorts(): Promise<number[]> {
    const rows = await this.clusterNodes();
    return rows.filter((r) => r.master && !r.failed && r.slots).map((r) => r.port);
  }

  /** SIGKILLs one node: a crash. */
  async kill(port: number): Promise<void> {
    await this.node(port).redis?.kill();
  }

  /** Starts a killed node again on its port and directory: it rejoins (as a replica once failed over). */
  async restart(port: number, timeoutMs = 20_000): Promise<void> {
    const node = this.node(port);
    if (!node.redis?.running) await launch(node, timeoutMs);
  }

  /**
   * Waits until the slots `oldPort` served are served by another master and
   * the cluster says ok (seen from a live node); returns that master's port.
   */
  async waitForFailover(oldPort: number, slotsOf: number[], timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await this.clusterNodes().catch(() => []);
      const owner = rows.find(
        (r) => r.master && !r.failed && r.port !== oldPort && slotsOf.some((x) => r.owns(x)),
      );
      if (owner && (await this.stateOk(owner.port))) return owner.port;
      if (Date.now() > deadline)
        throw new Error(`no failover away from ${oldPort} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** The port of the live master serving `slot`. */
  async ownerOf(slot: number): Promise<number> {
    const row = (await this.clusterNodes()).find((r) => r.master && !r.failed && r.owns(slot));
    if (!row) throw new Error(`no live master serves slot ${slot}`);
    return row.port;
  }

  /** Waits until every master has `replicas` replicas in sync. */
  async waitForReplicas(replicas: number, deadline = Date.now() + 20_000): Promise<void> {
    for (;;) {
      const masters = await this.masterPorts().catch(() => []);
      let ok = masters.length > 0;
      for (const m of masters) {
        const info = String(await withClient(m, (c) => c.info('replication')).catch(() => ''));
        if ([...info.matchAll(/^slave\d+:.*state=online/gm)].length < replicas) ok = false;
      }
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`cluster: not every master has ${replicas} replicas online`);
      await sleep(100);
    }
  }

  private node(port: number): Node {
    const node = this.nodes.find((x) => x.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  }

  private stateOk(port: number): Promise<boolean> {
    return withClient(port, (c) => c.call('CLUSTER', 'INFO')).then(
      (info) => /cluster_state:ok/.test(String(info)),
      () => false,
    );
  }

  /** CLUSTER NODES from the first live node. */
  private async clusterNodes(): Promise<ClusterNodeRow[]> {
    for (const n of this.nodes) {
      if (!n.redis?.running) continue;
      const text = await withClient(n.port, (c) => c.call('CLUSTER', 'NODES')).catch(() => null);
      if (typeof text === 'string') return parseClusterNodes(text);
    }
    throw new Error('no cluster node answered');
  }

  /** Kills every node and removes its directory. */
  async close(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        await n.redis?.kill();
        rmSync(n.dir, { recursive: true, force: true });
      }),
    );
  }
}

interface ClusterNodeRow {
  port: number;
  master: boolean;
  failed: boolean;
  /** The slot ranges column(s), e.g. "0-5460". */
  slots: string;
  owns(slot: number): boolean;
}

/** CLUSTER NODES: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
function parseClusterNodes(text: string): ClusterNodeRow[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const f = line.trim().split(' ');
      const flags = (f[2] ?? '').split(',');
      const ranges = f.slice(8).filter((x) => !x.startsWith('['));
      return {
        port: Number(/:(\d+)@/.exec(f[1] ?? '')?.[1]),
        master: flags.includes('master'),
        failed: flags.includes('fail') || flags.includes('fail?') || f[7] !== 'connected',
        slots: ranges.join(' '),
        owns: (slot: number) =>
          ranges.some((r) => {
            const [a, b] = r.split('-').map(Number);
            return a !== undefined && slot >= a && slot <= (b ?? a);
          }),
      };
    });
}

/** Starts a node's redis-server (mailbus's settings, cluster mode) and waits for its own PONG. */
async function launch(node: Node, timeoutMs: number): Promise<void> {
  await startRedisServer({
    dir: node.dir,
    port: node.port,
    args: [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(node.dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '2000',
    ],
    readyTimeoutMs: Math.max(1000, timeoutMs),
    onSpawn: (redis) => (node.redis = redis),
  });
}

async function withClient<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}
