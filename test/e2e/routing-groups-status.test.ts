import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@mailbus/config';
import { createWorkerConnection, MailQueue } from '@mailbus/queue';
import { freePort, RedisServer, waitFor } from '@mailbus/testing';
import { MAIN, MailbusProcess } from './support/mailbus-process.js';

interface End {
  connector: string;
  from: { routingGroup: string; bridgeheads: string[] };
  to: { routingGroup: string; bridgeheads: string[]; smartHosts: string[] };
  cost: number;
  state: string;
  stale: boolean;
  reportedAt: unknown;
  reportedAtMs?: number;
}
interface Conn {
  name: string;
  routingGroup: string;
  state: string;
  stale: boolean;
  reportedAt: unknown;
  reportedAtMs?: number;
  ends: End[];
  status: { depth: Record<string, number> } | null;
}
interface Org {
  routingGroup: string;
  routingGroups: Array<{
    name: string;
    here: boolean;
    reportedAt: unknown;
    stale: boolean;
    connectors: Conn[];
  }>;
  connectors: Conn[];
}

/**
 * Three routing groups, two running sites: Paris and Boston exchange link
 * state; Tokyo's site is not running, and Boston last heard of it two minutes
 * ago. `mailbus connector status` and GET /api/connectors in Boston list every
 * connector of the organisation by routing group, as Boston sees it.
 */
describe('routing groups as sites: connector status of the whole organisation', () => {
  let parisRedis: RedisServer;
  let bostonRedis: RedisServer;
  let paris: MailbusProcess;
  let boston: MailbusProcess;
  let http: number;
  let dir: string;
  let configFile: string;
  let yaml: string;

  before(async () => {
    [parisRedis, bostonRedis] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    const [pParis, pBoston, pTokyo] = [await freePort(), await freePort(), await freePort()];
    http = await freePort();
    yaml = `
redis: { url: "${bostonRedis.url}" }
logging: { level: warn }
admin: { listen: "127.0.0.1:${http}", tokenEnv: MAILBUS_TEST_TOKEN }
routingGroups:
  - { name: Paris, redis: { url: "${parisRedis.url}" } }
  - { name: Boston }
  - { name: Tokyo, redis: { url: "redis://127.0.0.1:1" } }
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.test, listen: "127.0.0.1:${pParis}", relay: { allow: [127.0.0.1/32] } }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.test, listen: "127.0.0.1:${pBoston}", relay: { allow: [127.0.0.1/32] } }
  - { name: tokyo-gw, routingGroup: Tokyo, fqdn: tokyo-gw.contoso.test, listen: "127.0.0.1:${pTokyo}" }
connectors:
  - { name: Paris-Boston, bridgeheads: [paris-gw], smartHosts: ["[127.0.0.1]:${pBoston}"], connectedRoutingGroups: [{ name: Boston, cost: 10 }] }
  - { name: Boston-Paris, bridgeheads: [boston-gw], smartHosts: ["[127.0.0.1]:${pParis}"], connectedRoutingGroups: [{ name: Paris, cost: 10 }] }
  - { name: Boston-Tokyo, bridgeheads: [boston-gw], smartHosts: [tokyo-gw.contoso.test], connectedRoutingGroups: [{ name: Tokyo, cost: 20 }] }
  - { name: Tokyo-Boston, bridgeheads: [tokyo-gw], smartHosts: [boston-gw.contoso.test], connectedRoutingGroups: [{ name: Boston, cost: 20 }] }
  - { name: Internet, bridgeheads: [paris-gw], smartHosts: ["[127.0.0.1]:9"], addressSpaces: [{ domain: "*", cost: 1 }] }
  - { name: TokyoNet, bridgeheads: [tokyo-gw], smartHosts: ["[127.0.0.1]:9"], addressSpaces: [{ domain: "*.jp", cost: 1 }] }
`;
    dir = mkdtempSync(join(tmpdir(), 'mailbus-sites-status-'));
    configFile = join(dir, 'mailbus.yaml');
    writeFileSync(configFile, yaml);
    const config = loadConfig(yaml);
    const queueOn = (url: string) => {
      const client = createWorkerConnection({ url });
      return { client, queue: new MailQueue(client, config, 'test') };
    };
    // Paris's Internet connector is down; Boston last heard from Tokyo two minutes ago.
    const p = queueOn(parisRedis.url);
    const b = queueOn(bostonRedis.url);
    try {
      await p.queue.links.recordFailure(
        'Internet',
        'test: marked down',
        { failuresToMarkDown: 1, downFor: 600_000, maxDownFor: 600_000 },
        Date.now(),
      );
      await b.queue.siteLinks.save([{ group: 'Tokyo', at: tokyoReportedAt, down: ['TokyoNet'] }]);
    } finally {
      p.client.disconnect();
      b.client.disconnect();
    }
    // One process per site on one host: Paris's metrics endpoint on a port of its own.
    paris = await MailbusProcess.start(yaml, {
      listening: [`127.0.0.1:${pParis}`],
      args: ['--role', 'ingress,bridgehead', '--virtual-server', 'paris-gw'],
      env: { MAILBUS_HTTP_LISTEN: `127.0.0.1:${await freePort()}` },
    });
    boston = await MailbusProcess.start(yaml, {
      env: { MAILBUS_TEST_TOKEN: 'secret' },
      listening: [`127.0.0.1:${pBoston}`],
      args: ['--role', 'ingress,bridgehead,admin', '--virtual-server', 'boston-gw'],
    });
  });

  after(async () => {
    await Promise.all([paris?.close(), boston?.close()]);
    await Promise.all([parisRedis?.close(), bostonRedis?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Tokyo's last report, two minutes before the test starts: STALE from the start. */
  const tokyoReportedAt = Date.now() - 120_000;
  /**
   * How `connector status` words Tokyo's age when it ran between t0 and t1 (whole minutes,
   * rounded): the processes' start under load can take longer than the half minute after
   * which "2m ago" becomes "3m ago", so every wording the run could have printed is accepted.
   */
  const tokyoAge = (t0: number, t1: number): string => {
    const minutes = (t: number) => Math.round(Math.round((t - tokyoReportedAt) / 1000) / 60);
    const words: string[] = [];
    for (let m = minutes(t0); m <= minutes(t1); m++) words.push(`${m}m ago`);
    return `(?:${words.join('|')})`;
  };

  const status = (...args: string[]) =>
    spawnSync(
      process.execPath,
      [
        MAIN,
        'connector',
        'status',
        '--config',
        configFile,
        '--virtual-server',
        'boston-gw',
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, MAILBUS_REDIS_URL: '' } },
    );
  const json = (): Org => {
    const r = status('--json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Org;
  };
  const byName = (org: Org, name: string): Conn => {
    const c = org.connectors.find((x) => x.name === name);
    assert.ok(c, name);
    return c;
  };

  test('--json: every connector by routing group, state as Boston sees it, both ends, Tokyo stale', async () => {
    const org = await waitFor(
      () => {
        const o = json();
        return byName(o, 'Internet').state === 'down' ? o : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: "Boston to hear that Paris's Internet is down" },
    );
    assert.equal(org.routingGroup, 'Boston');
    assert.deepEqual(
      org.routingGroups.map((g) => [g.name, g.here, g.stale, g.connectors.map((c) => c.name)]),
      [
        ['Paris', false, false, ['Paris-Boston', 'Internet']],
        ['Boston', true, false, ['Boston-Paris', 'Boston-Tokyo']],
        ['Tokyo', false, true, ['Tokyo-Boston', 'TokyoNet']],
      ],
    );
    const internet = byName(org, 'Internet');
    assert.equal(internet.stale, false);
    assert.equal(internet.status, null, "another site's queues are not here");
    assert.equal(typeof internet.reportedAt, 'number');
    assert.deepEqual(byName(org, 'Internet').ends, []);
    const tokyoNet = byName(org, 'TokyoNet');
    assert.deepEqual([tokyoNet.state, tokyoNet.stale], ['down', true]);
    const own = byName(org, 'Boston-Paris');
    assert.deepEqual([own.state, own.reportedAt, own.stale], ['up', null, false]);
    assert.equal(own.status?.depth.waiting, 0);
    const ends = byName(org, 'Paris-Boston').ends.map((e) => ({
      connector: e.connector,
      from: `${e.from.routingGroup} ${e.from.bridgeheads.join()}`,
      to: `${e.to.routingGroup} ${e.to.bridgeheads.join()}`,
      cost: e.cost,
      state: e.state,
      stale: e.stale,
    }));
    assert.deepEqual(ends, [
      {
        connector: 'Paris-Boston',
        from: 'Paris paris-gw',
        to: 'Boston boston-gw',
        cost: 10,
        state: 'up',
        stale: false,
      },
      {
        connector: 'Boston-Paris',
        from: 'Boston boston-gw',
        to: 'Paris paris-gw',
        cost: 10,
        state: 'up',
        stale: false,
      },
    ]);
    assert.deepEqual(
      byName(org, 'Tokyo-Boston').ends.map((e) => [
        e.connector,
        e.to.bridgeheads,
        e.state,
        e.stale,
      ]),
      [
        ['Tokyo-Boston', ['boston-gw'], 'up', true],
        ['Boston-Tokyo', ['tokyo-gw'], 'up', false],
      ],
    );
  });

  test('text: a block per routing group, STALE marked, both ends of each routing-group connector', () => {
    const t0 = Date.now();
    const r = status();
    const age = tokyoAge(t0, Date.now());
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^routing group Paris \(last report \d+s ago\)$/m);
    assert.match(out, /^routing group Boston \(here\)$/m);
    assert.match(out, new RegExp(`^routing group Tokyo \\(STALE: last report ${age}\\)$`, 'm'));
    assert.match(out, /^ {2}Internet +down \(reported \d+s ago\)$/m);
    assert.match(out, new RegExp(`^ {2}TokyoNet +down STALE \\(reported ${age}\\)$`, 'm'));
    assert.match(out, /^ {2}Boston-Paris +up +waiting 0 /m);
    assert.match(
      out,
      /^ {4}Paris \[paris-gw\] -> Boston \[boston-gw\] \(Paris-Boston, cost 10\): up \(reported \d+s ago\)$/m,
    );
    assert.match(
      out,
      /^ {4}Boston \[boston-gw\] -> Paris \[paris-gw\] \(Boston-Paris, cost 10\): up$/m,
    );
    assert.match(
      out,
      new RegExp(
        `^ {4}Tokyo \\[tokyo-gw\\] -> Boston \\[boston-gw\\] \\(Tokyo-Boston, cost 20\\): up STALE \\(reported ${age}\\)$`,
        'm',
      ),
    );
  });

  test('GET /api/connectors: the same, times in ISO 8601 with the milliseconds beside them', async () => {
    const res = await waitFor(
      async () =>
        fetch(`http://127.0.0.1:${http}/api/connectors`, {
          headers: { authorization: 'Bearer secret' },
        }).catch(() => undefined),
      { timeoutMs: 20_000, what: 'the admin API' },
    );
    assert.equal(res.status, 200);
    const org = (await res.json()) as Org;
    assert.equal(org.routingGroup, 'Boston');
    assert.deepEqual(
      org.routingGroups.map((g) => [g.name, g.here, g.stale]),
      [
        ['Paris', false, false],
        ['Boston', true, false],
        ['Tokyo', false, true],
      ],
    );
    const internet = org.connectors.find((c) => c.name === 'Internet');
    assert.equal(internet?.state, 'down');
    assert.match(String(internet?.reportedAt), /^\d{4}-\d\d-\d\dT/);
    assert.equal(typeof internet?.reportedAtMs, 'number');
    const tokyo = org.routingGroups[2]?.connectors.find((c) => c.name === 'Tokyo-Boston');
    assert.equal(tokyo?.ends[0]?.stale, true);
    assert.match(String(tokyo?.ends[0]?.reportedAt), /^\d{4}-\d\d-\d\dT/);
  });
});
