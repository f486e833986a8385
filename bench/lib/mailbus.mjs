// mailbus under test: a redis-server started here (AOF appendfsync always,
// noeviction, temporary directory) and gateway processes started from a
// generated config, each with a role and (for ingress) its own virtual server.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../libs/redis-server/dist/src/index.js';
import { freePort, onCleanup, startChild, waitForPort, waitForText, sleep } from './procs.mjs';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'services/cli/dist/src/main.js');

export class BenchRedis {
  constructor(dir, durability = 'fsync') {
    this.dir = dir;
    this.durability = durability;
  }

  async start() {
    mkdirSync(this.dir, { recursive: true });
    // mailbus's own way to start a Redis (REDIS_SERVER_ARGS), as the embedded default does.
    this.server = await startRedisServer({
      dir: this.dir,
      args: [
        ...(this.durability === 'memory' ? ['--appendonly', 'no'] : []),
        '--logfile',
        join(this.dir, 'redis.log'),
      ],
      onSpawn: (server) => (this.removeCleanup = onCleanup(() => server.stop(10_000))),
    });
    this.port = this.server.port;
    this.child = this.server.child;
    this.client = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true });
    this.client.on('error', () => undefined);
    await this.client.connect();
    return this;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async usedMemory() {
    const info = await this.client.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  }

  async version() {
    const info = await this.client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  }

  async stop() {
    this.client?.disconnect();
    this.removeCleanup?.();
    await this.server?.stop(10_000);
  }
}

/** The generated config: one virtual server per ingress port, one connector to the sink. */
export function mailbusConfig({
  redisUrl,
  durability,
  ingressPorts,
  sinkPort,
  schedule = 'always',
  concurrency = 20,
  logDir,
}) {
  const vs = ingressPorts.map((port, i) => ({
    name: `vs${i + 1}`,
    listen: `127.0.0.1:${port}`,
    fqdn: `mailbus-bench${i + 1}.localdomain`,
    maxMessageSizeKB: 20480,
    maxRecipientsPerMessage: 1000,
    relay: { allow: ['127.0.0.0/8'] },
    limits: { maxConnections: 1000, maxConnectionsPerIp: 1000 },
    protocolLog: { enabled: false, directory: logDir },
  }));
  return {
    organization: 'Bench',
    redis: { url: redisUrl, durability },
    logging: { level: 'info' },
    virtualServers: vs,
    connectors: [
      {
        name: 'Sink',
        smartHosts: [`[127.0.0.1]:${sinkPort}`],
        bridgeheads: ['vs1'],
        addressSpaces: [{ type: 'SMTP', domain: '*', cost: 1 }],
        outboundSecurity: { tls: 'none' },
        concurrency,
        delivery: { schedule },
      },
    ],
  };
}

/**
 * A mailbus deployment: `ingress` processes (one per virtual server) and
 * `bridgeheads` processes, or one process running both roles when combined.
 */
export class MailbusDeployment {
  constructor({
    dir,
    redis,
    sinkPort,
    ingress = 1,
    bridgeheads = 1,
    combined = false,
    schedule,
    env = {},
    nodeArgs = [],
    concurrency,
  }) {
    Object.assign(this, {
      dir,
      redis,
      sinkPort,
      ingress,
      bridgeheads,
      combined,
      schedule,
      env,
      nodeArgs,
      concurrency,
    });
    this.children = [];
  }

  async start() {
    mkdirSync(this.dir, { recursive: true });
    this.ports = [];
    for (let i = 0; i < this.ingress; i++) this.ports.push(await freePort());
    const config = mailbusConfig({
      redisUrl: this.redis.url,
      durability: this.redis.durability,
      ingressPorts: this.ports,
      sinkPort: this.sinkPort,
      logDir: join(this.dir, 'logs'),
      ...(this.schedule ? { schedule: this.schedule } : {}),
      ...(this.concurrency ? { concurrency: this.concurrency } : {}),
    });
    this.configFile = join(this.dir, 'mailbus.yaml');
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
    const env = { ...process.env, ...this.env };
    delete env.MAILBUS_REDIS_URL;
    const specs = [];
    if (this.combined) specs.push({ role: 'ingress,bridgehead', vs: 'vs1', name: 'gateway' });
    else {
      for (let i = 0; i < this.ingress; i++)
        specs.push({ role: 'ingress', vs: `vs${i + 1}`, name: `ingress${i + 1}` });
      for (let i = 0; i < this.bridgeheads; i++)
        specs.push({ role: 'bridgehead', vs: 'vs1', name: `bridgehead${i + 1}` });
    }
    for (const s of specs) {
      const log = join(this.dir, `${s.name}.log`);
      const child = startChild(
        process.execPath,
        [
          ...this.nodeArgs,
          CLI,
          'start',
          '--config',
          this.configFile,
          '--role',
          s.role,
          '--virtual-server',
          s.vs,
        ],
        { log, env, graceMs: 60_000, cwd: this.dir },
      );
      child.benchName = s.name;
      child.benchLog = log;
      this.children.push(child);
    }
    for (const c of this.children) await waitForText(c.benchLog, 'mailbus running', 60_000, c);
    for (const p of this.ports) await waitForPort(p);
    // Let workers settle (BullMQ workers connect and start polling).
    await sleep(300);
    return this;
  }

  /** Root processes for CPU accounting, labelled by name. */
  roots() {
    return this.children.map((c) => ({ pid: c.pid, name: c.benchName }));
  }

  async stop() {
    await Promise.all(this.children.map((c) => c.stopNow()));
  }
}
