import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@mailbus/config';
import { createWorkerConnection, MailQueue } from '@mailbus/queue';
import { freePort, RedisServer, SinkServer } from '@mailbus/testing';
import { MAIN, MailbusProcess } from './mailbus-process.js';

/** What a two-site world varies: how Boston trusts and how Paris authenticates to it. */
export interface TwoSitesOptions {
  /** Appended to boston-gw's entry (`, siteTrust: authenticated, tls: {…}`). */
  boston?: (dir: string) => string;
  /** The outboundSecurity of Paris-Boston (a YAML flow map); default `{}`. */
  parisToBoston?: (dir: string) => string;
  /** Written into the world's directory before the nodes start (users file, certificates). */
  files?: (dir: string) => Promise<void> | void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Two sites on one machine from one config: Paris and Boston, each its own
 * redis-server and `mailbus start --virtual-server` process, joined by
 * Paris-Boston and Boston-Paris (cost 10). Boston's mailboxes are a sink;
 * the Internet (`*`) is reached through Paris's Internet connector (cost 1
 * beyond the link) or Boston's own BostonISP (cost 20). Both virtual
 * servers allow relay from 127.0.0.1 only.
 */
export class TwoSites {
  private constructor(
    readonly dir: string,
    readonly configFile: string,
    readonly yaml: string,
    readonly parisRedis: RedisServer,
    readonly bostonRedis: RedisServer,
    readonly sinks: { bostonMailbox: SinkServer; internet: SinkServer; bostonIsp: SinkServer },
    readonly ports: { paris: number; boston: number },
    readonly nodes: { paris: MailbusProcess; boston: MailbusProcess },
  ) {}

  static async start(o: TwoSitesOptions = {}): Promise<TwoSites> {
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-two-sites-'));
    await o.files?.(dir);
    const [parisRedis, bostonRedis] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    const [bostonMailbox, internet, bostonIsp] = await Promise.all([
      SinkServer.start(),
      SinkServer.start(),
      SinkServer.start(),
    ]);
    const paris = await freePort();
    const boston = await freePort();
    const sink = (s: SinkServer) => `"[127.0.0.1]:${s.port}"`;
    const yaml = `
redis: { url: "${bostonRedis.url}" }
logging: { level: warn }
routingGroups:
  - { name: Paris, redis: { url: "${parisRedis.url}" } }
  - { name: Boston }
recipientPolicies:
  - { domain: boston.contoso.test, routingGroup: Boston, mailboxHosts: [${sink(bostonMailbox)}] }
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.test, listen: "127.0.0.1:${paris}", relay: { allow: [127.0.0.1/32] } }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.test, listen: "127.0.0.1:${boston}", relay: { allow: [127.0.0.1/32] }${o.boston?.(dir) ?? ''} }
connectors:
  - { name: Paris-Boston, bridgeheads: [paris-gw], smartHosts: ["[127.0.0.1]:${boston}"], connectedRoutingGroups: [{ name: Boston, cost: 10 }], outboundSecurity: ${o.parisToBoston?.(dir) ?? '{}'} }
  - { name: Boston-Paris, bridgeheads: [boston-gw], smartHosts: ["[127.0.0.1]:${paris}"], connectedRoutingGroups: [{ name: Paris, cost: 10 }] }
  - { name: Internet, bridgeheads: [paris-gw], smartHosts: [${sink(internet)}], addressSpaces: [{ domain: "*", cost: 1 }] }
  - { name: BostonISP, bridgeheads: [boston-gw], smartHosts: [${sink(bostonIsp)}], addressSpaces: [{ domain: "*", cost: 20 }] }
`;
    const configFile = join(dir, 'mailbus.yaml');
    writeFileSync(configFile, yaml);
    const start = (vs: string, port: number) =>
      MailbusProcess.start(yaml, {
        ...(o.env ? { env: o.env } : {}),
        listening: [`127.0.0.1:${port}`],
        args: ['--role', 'ingress,bridgehead', '--virtual-server', vs],
      });
    const nodes = await Promise.all([start('paris-gw', paris), start('boston-gw', boston)]);
    return new TwoSites(
      dir,
      configFile,
      yaml,
      parisRedis,
      bostonRedis,
      { bostonMailbox, internet, bostonIsp },
      { paris, boston },
      { paris: nodes[0], boston: nodes[1] },
    );
  }

  /** The first connector `mailbus route --json` gives for `to` in the virtual server's site. */
  firstConnector(vs: 'paris-gw' | 'boston-gw', to: string): string | undefined {
    const redis = vs === 'paris-gw' ? this.parisRedis : this.bostonRedis;
    const r = spawnSync(
      process.execPath,
      [
        MAIN,
        'route',
        '--config',
        this.configFile,
        '--virtual-server',
        vs,
        '--redis',
        redis.url,
      ].concat(['--from', 'a@b.test', '--to', to, '--json']),
      { encoding: 'utf8', env: { ...process.env, MAILBUS_REDIS_URL: '' } },
    );
    const json = JSON.parse(r.stdout) as {
      recipients: Array<{ connectors?: Array<{ name: string }> }>;
    };
    return json.recipients[0]?.connectors?.[0]?.name;
  }

  /** `mailbus track ID [args]` (text unless `--json`), searching both sites; throws unless exit 0. */
  track(id: string, ...args: string[]): string {
    const r = spawnSync(
      process.execPath,
      [MAIN, 'track', id, '--config', this.configFile, ...args],
      { encoding: 'utf8', env: { ...process.env, MAILBUS_REDIS_URL: '' } },
    );
    if (r.status !== 0) throw new Error(`mailbus track ${id} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  }

  /** Marks one of Paris's connectors down in Paris's Redis, as repeated failures would. */
  async markDownInParis(connector: string): Promise<void> {
    const client = createWorkerConnection({ url: this.parisRedis.url });
    try {
      await new MailQueue(client, loadConfig(this.yaml), 'test').links.recordFailure(
        connector,
        'test: marked down',
        { failuresToMarkDown: 1, downFor: 600_000, maxDownFor: 600_000 },
        Date.now(),
      );
    } finally {
      client.disconnect();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.nodes.paris.close(), this.nodes.boston.close()]);
    await Promise.all(Object.values(this.sinks).map((s) => s.close()));
    await Promise.all([this.parisRedis.close(), this.bostonRedis.close()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
