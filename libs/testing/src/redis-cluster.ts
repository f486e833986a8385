import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_SERVER_ARGS } from '@mailbus/config';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, sleep } from './free-port.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Masters (default 3; Redis Cluster needs at least 3). */
  masters?: number;
  /** Give up starting after this long (default 20 s). */
  timeoutMs?: number;
}

interface Node {
  port: number;
  dir: string;
  child: ChildProcess | undefined;
}

/**
 * A real Redis Cluster on loopback: N `redis-server --cluster-enabled yes`
 * (AOF always, noeviction, each with its own temporary directory) joined by
 * `redis-cli --cluster create … --cluster-replicas 0`, ready once
 * `CLUSTER INFO` says `cluster_state:ok` on every node.
 */
export class RedisCluster {
  private constructor(private readonly nodes: Node[]) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const n = options.masters ?? 3;
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    const nodes: Node[] = [];
    const cluster = new RedisCluster(nodes);
    try {
      for (let i = 0; i < n; i++) {
        const port = await freePort();
        const dir = mkdtempSync(join(tmpdir(), 'mailbus-cluster-'));
        const node: Node = { port, dir, child: undefined };
        nodes.push(node);
        node.child = spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--dir',
            dir,
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, 'nodes.conf'),
            '--cluster-node-timeout',
            '2000',
            ...REDIS_SERVER_ARGS,
            '--daemonize',
            'no',
            '--loglevel',
            'warning',
          ],
          { stdio: 'ignore' },
        );
        node.child.on('exit', () => (node.child = undefined));
      }
      for (const node of nodes) await waitForPong(node.port, deadline);
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((x) => `127.0.0.1:${x.port}`),
          '--cluster-replicas',
          '0',
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

  /** Kills every node and removes its directory. */
  async close(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const child = n.child;
        if (child) {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGKILL');
          await exited;
        }
        rmSync(n.dir, { recursive: true, force: true });
      }),
    );
  }
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

async function waitForPong(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await withClient(port, (c) => c.ping()).then(
      (r) => r === 'PONG',
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await sleep(20);
  }
}
