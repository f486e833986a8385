import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@mailbus/config';
import { createWorkerConnection, MailQueue } from '@mailbus/queue';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  waitFor,
  type ReceivedMessage,
} from '@mailbus/testing';
import { MailbusProcess } from './support/mailbus-process.js';
import { header } from './support/message-headers.js';

const MAIN = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../services/cli/dist/src/main.js',
);

/**
 * Two sites on one machine, from one config: Paris and Boston, each its own
 * redis-server and its own `mailbus start --virtual-server` process, joined
 * by Paris-Boston and Boston-Paris (cost 10). The Internet sink is reached
 * only through Paris's Internet connector.
 */
describe('routing groups as sites: two sites on one machine', () => {
  let parisRedis: RedisServer;
  let bostonRedis: RedisServer;
  let parisMailbox: SinkServer;
  let bostonMailbox: SinkServer;
  let internet: SinkServer;
  let frSink: SinkServer;
  let bostonIsp: SinkServer;
  let paris: MailbusProcess;
  let boston: MailbusProcess;
  let pParis: number;
  let pBoston: number;
  let yaml: string;
  let configFile: string;

  before(async () => {
    [parisRedis, bostonRedis] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    [parisMailbox, bostonMailbox, internet, frSink, bostonIsp] = await Promise.all([
      SinkServer.start(),
      SinkServer.start(),
      SinkServer.start(),
      SinkServer.start(),
      SinkServer.start(),
    ]);
    pParis = await freePort();
    pBoston = await freePort();
    const sink = (s: SinkServer) => `"[127.0.0.1]:${s.port}"`;
    yaml = `
organization: Contoso
redis: { url: "${bostonRedis.url}" }
routingGroups:
  - { name: Paris, redis: { url: "${parisRedis.url}" } }
  - { name: Boston }
recipientPolicies:
  - { domain: paris.contoso.test, routingGroup: Paris, mailboxHosts: [${sink(parisMailbox)}] }
  - { domain: boston.contoso.test, routingGroup: Boston, mailboxHosts: [${sink(bostonMailbox)}] }
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.test, listen: "127.0.0.1:${pParis}", relay: { allow: [127.0.0.0/8] } }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.test, listen: "127.0.0.1:${pBoston}", relay: { allow: [127.0.0.0/8] } }
connectors:
  - name: Paris-Boston
    bridgeheads: [paris-gw]
    smartHosts: ["[127.0.0.1]:${pBoston}"]
    connectedRoutingGroups: [{ name: Boston, cost: 10 }]
  - name: Boston-Paris
    bridgeheads: [boston-gw]
    smartHosts: ["[127.0.0.1]:${pParis}"]
    connectedRoutingGroups: [{ name: Paris, cost: 10 }]
  - name: Internet
    bridgeheads: [paris-gw]
    smartHosts: [${sink(internet)}]
    addressSpaces: [{ type: SMTP, domain: "*", cost: 1 }]
  - name: ParisFr
    bridgeheads: [paris-gw]
    scope: routingGroup
    smartHosts: [${sink(frSink)}]
    addressSpaces: [{ domain: "*.fr", cost: 1 }]
  - name: PNet
    bridgeheads: [paris-gw]
    smartHosts: [${sink(internet)}]
    addressSpaces: [{ domain: "*.pingpong.test", cost: 1 }]
  - name: BNet
    bridgeheads: [boston-gw]
    smartHosts: [${sink(internet)}]
    addressSpaces: [{ domain: "*.pingpong.test", cost: 1 }]
  - name: BostonISP
    bridgeheads: [boston-gw]
    smartHosts: [${sink(bostonIsp)}]
    addressSpaces: [{ domain: "*", cost: 20 }]
`;
    configFile = join(mkdtempSync(join(tmpdir(), 'mailbus-sites-')), 'mailbus.yaml');
    writeFileSync(configFile, yaml);
    // For the ping-pong test, before the nodes read link state: BNet down in Boston.
    const policy = { failuresToMarkDown: 1, downFor: 600_000, maxDownFor: 600_000 };
    const config = loadConfig(yaml);
    for (const [redis, connector] of [[bostonRedis, 'BNet']] as const) {
      const client = createWorkerConnection({ url: redis.url });
      try {
        await new MailQueue(client, config, 'test').links.recordFailure(
          connector,
          'test: marked down',
          policy,
          Date.now(),
        );
      } finally {
        client.disconnect();
      }
    }
    // Nothing but the top-level redis in the environment: each node must pick its site's.
    [paris, boston] = await Promise.all([
      MailbusProcess.start(yaml, {
        listening: [`127.0.0.1:${pParis}`],
        args: ['--role', 'ingress,bridgehead', '--virtual-server', 'paris-gw'],
      }),
      MailbusProcess.start(yaml, {
        listening: [`127.0.0.1:${pBoston}`],
        args: ['--role', 'ingress,bridgehead', '--virtual-server', 'boston-gw'],
      }),
    ]);
  });

  after(async () => {
    await Promise.all([paris?.close(), boston?.close()]);
    await Promise.all([
      parisMailbox?.close(),
      bostonMailbox?.close(),
      internet?.close(),
      frSink?.close(),
      bostonIsp?.close(),
    ]);
    await Promise.all([parisRedis?.close(), bostonRedis?.close()]);
  });

  test("each node runs on its own site's Redis", () => {
    assert.match(paris.output, new RegExp(`Redis ${parisRedis.url.replace(/[/.]/g, '\\$&')}`));
    assert.match(boston.output, new RegExp(`Redis ${bostonRedis.url.replace(/[/.]/g, '\\$&')}`));
  });

  test('Paris -> a Boston mailbox: over Paris-Boston, delivered by Boston, every hop in Received', async () => {
    const to = 'ann@boston.contoso.test';
    await sendMail({
      port: pParis,
      from: 'bob@paris.contoso.test',
      to: [to],
      raw: makeMessage({ from: 'bob@paris.contoso.test', to, subject: 'paris to boston' }),
    });
    const [m] = await bostonMailbox.waitForMessages(1, 30_000);
    assert.ok(m);
    assert.deepEqual(m.to, [to]);
    assert.deepEqual(header(m, 'X-Mailbus-Routing-Groups'), ['Paris, Boston']);
    const received = header(m, 'Received').join('\n');
    assert.match(received, /by boston-gw\.contoso\.test/);
    assert.match(received, /by paris-gw\.contoso\.test/);
    assert.equal(parisMailbox.messages.length, 0);
  });

  test("Boston -> the Internet via Paris (organization scope): Boston-Paris, then Paris's Internet connector", async () => {
    const to = 'x@example.net';
    await sendMail({
      port: pBoston,
      from: 'ann@boston.contoso.test',
      to: [to],
      raw: makeMessage({ from: 'ann@boston.contoso.test', to, subject: 'boston to internet' }),
    });
    const m = await waitFor(() => internet.messages.find((x) => x.to.includes(to)), {
      timeoutMs: 30_000,
      what: 'the Internet sink to receive the Boston message',
    });
    assert.equal(m.clientHostname, 'paris-gw.contoso.test');
    const received = header(m, 'Received').join('\n');
    assert.match(received, /by paris-gw\.contoso\.test/);
    assert.match(received, /by boston-gw\.contoso\.test/);
    // The site headers never leave the organisation.
    assert.deepEqual(header(m, 'X-Mailbus-Routing-Groups'), []);
    assert.deepEqual(header(m, 'X-Mailbus-Trace-Context'), []);
  });

  test("a routing-group-scoped connector serves only mail that entered in Paris: Boston's .fr mail takes the Internet connector", async () => {
    const send = (port: number, from: string, to: string, headers?: Record<string, string>) =>
      sendMail({
        port,
        from,
        to: [to],
        raw: makeMessage({ from, to, ...(headers ? { headers } : {}) }),
      });
    const arrived = (sink: SinkServer, to: string) =>
      waitFor(() => sink.messages.find((x) => x.to.includes(to)), {
        timeoutMs: 30_000,
        what: `${to} to arrive`,
      });
    await send(pParis, 'bob@paris.contoso.test', 'z@example.fr');
    await send(pBoston, 'ann@boston.contoso.test', 'x@example.fr');
    // What Boston's bridgehead brings: mail that entered in Boston, from a client that may relay.
    await send(pParis, 'ann@boston.contoso.test', 'y@example.fr', {
      'X-Mailbus-Routing-Groups': 'Boston',
    });
    await arrived(frSink, 'z@example.fr');
    await arrived(internet, 'x@example.fr');
    await arrived(internet, 'y@example.fr');
    assert.deepEqual(
      frSink.messages.flatMap((m) => m.to),
      ['z@example.fr'],
    );
  });

  const route = (vs: string, to: string) =>
    spawnSync(
      process.execPath,
      [
        MAIN,
        'route',
        '--config',
        configFile,
        '--virtual-server',
        vs,
        '--redis',
        vs === 'paris-gw' ? parisRedis.url : bostonRedis.url,
        '--from',
        'a@b.test',
        '--to',
        to,
        '--json',
      ],
      { encoding: 'utf8' },
    ).stdout;

  test("no ping-pong: mail that came from Paris waits in Boston for Boston's down connector rather than go back to Paris, where the live one is", async () => {
    // Without the visited-groups guard Boston would send it back over Boston-Paris:
    assert.match(
      route('boston-gw', 'x@a.pingpong.test'),
      /"connectors":\[\{"name":"Boston-Paris","cost":11,"path":\["Boston-Paris","PNet"\]\},\{"name":"BNet","cost":1\}\]/,
    );
    const to = 'x@a.pingpong.test';
    const from = 'bob@paris.contoso.test';
    // What Paris's bridgehead brings when Paris saw BNet up and PNet down a moment ago.
    await sendMail({
      port: pBoston,
      from,
      to: [to],
      raw: makeMessage({ from, to, headers: { 'X-Mailbus-Routing-Groups': 'Paris' } }),
    });
    const status = () => {
      const r = spawnSync(
        process.execPath,
        [
          MAIN,
          'connector',
          'status',
          'BNet',
          '--json',
          '--config',
          configFile,
          '--redis',
          bostonRedis.url,
        ],
        { encoding: 'utf8' },
      );
      const [s] = JSON.parse(r.stdout || '[]') as Array<{ depth: Record<string, number> }>;
      return s ? Object.values(s.depth).reduce((a, b) => a + b, 0) : 0;
    };
    await waitFor(() => status() >= 1, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the message queued on BNet in Boston',
    });
    assert.equal(internet.messages.filter((m) => m.to.includes(to)).length, 0);
    assert.equal(parisMailbox.messages.length, 0);
  });

  test("Paris's Internet connector down: within 30 s Boston stops routing Internet mail through Paris and uses BostonISP", async () => {
    const first = (vs: string) =>
      (
        JSON.parse(route(vs, 'x@example.net')) as {
          recipients: Array<{ connectors?: Array<{ name: string }> }>;
        }
      ).recipients[0]?.connectors?.[0]?.name;
    assert.equal(first('boston-gw'), 'Boston-Paris');
    const client = createWorkerConnection({ url: parisRedis.url });
    const started = Date.now();
    try {
      await new MailQueue(client, loadConfig(yaml), 'test').links.recordFailure(
        'Internet',
        'test: marked down',
        { failuresToMarkDown: 1, downFor: 600_000, maxDownFor: 600_000 },
        started,
      );
    } finally {
      client.disconnect();
    }
    await waitFor(() => first('boston-gw') === 'BostonISP', {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: "Boston to learn that Paris's Internet connector is down",
    });
    const learnedMs = Date.now() - started;
    const to = 'after-down@example.net';
    const from = 'ann@boston.contoso.test';
    // The gateway reads link state once a second: a message sent until then may still go to Paris.
    await waitFor(
      async () => {
        await sendMail({ port: pBoston, from, to: [to], raw: makeMessage({ from, to }) });
        return bostonIsp.messages.some((m) => m.to.includes(to));
      },
      { timeoutMs: 15_000, intervalMs: 1000, what: 'Internet mail from Boston at BostonISP' },
    );
    assert.ok(learnedMs < 30_000, `learned after ${learnedMs} ms`);
  });
});

/**
 * Three sites A, B, C in a triangle: A-B and B-C cost 1, A-C direct cost 5;
 * the Net connector (`*`) is in C. A's mail goes A -> B -> C (3) before the
 * direct A -> C (6), and fails over to the direct link when B is unreachable.
 */
describe('routing groups as sites: a triangle prefers the cheaper two-hop path and fails over to the direct one', () => {
  const names = ['A', 'B', 'C'] as const;
  const redis = new Map<string, RedisServer>();
  const nodes = new Map<string, MailbusProcess>();
  const port = new Map<string, number>();
  let net: SinkServer;

  before(async () => {
    net = await SinkServer.start();
    for (const n of names) {
      redis.set(n, await RedisServer.start());
      port.set(n, await freePort());
    }
    const link = (from: string, to: string, cost: number) => `
  - name: ${from}-${to}
    bridgeheads: [${from.toLowerCase()}]
    smartHosts: ["[127.0.0.1]:${port.get(to)}"]
    connectedRoutingGroups: [{ name: ${to}, cost: ${cost} }]
    linkState: { failuresToMarkDown: 1, downFor: 10m }
    retry: { intervals: [2s], expireAfter: 1h, delayNotifyAfter: 30m }`;
    const yaml = `
routingGroups:
${names.map((n) => `  - { name: ${n}, redis: { url: "${redis.get(n)?.url}" } }`).join('\n')}
virtualServers:
${names
  .map(
    (n) =>
      `  - { name: ${n.toLowerCase()}, routingGroup: ${n}, fqdn: ${n.toLowerCase()}.contoso.test, listen: "127.0.0.1:${port.get(n)}", relay: { allow: [127.0.0.0/8] } }`,
  )
  .join('\n')}
connectors:${link('A', 'B', 1)}${link('B', 'A', 1)}${link('B', 'C', 1)}${link('C', 'B', 1)}${link('A', 'C', 5)}${link('C', 'A', 5)}
  - { name: Net, bridgeheads: [c], smartHosts: ["[127.0.0.1]:${net.port}"], addressSpaces: [{ domain: "*" }] }
`;
    await Promise.all(
      names.map(async (n) => {
        nodes.set(
          n,
          await MailbusProcess.start(yaml, {
            listening: [`127.0.0.1:${port.get(n)}`],
            args: ['--role', 'ingress,bridgehead', '--virtual-server', n.toLowerCase()],
          }),
        );
      }),
    );
  });

  after(async () => {
    await Promise.all([...nodes.values()].map((p) => p.close()));
    await net?.close();
    await Promise.all([...redis.values()].map((r) => r.close()));
  });

  const sendFromA = async (to: string) => {
    await sendMail({
      port: port.get('A') ?? 0,
      from: 'a@a.contoso.test',
      to: [to],
      raw: makeMessage({ from: 'a@a.contoso.test', to }),
    });
    return waitFor(() => net.messages.find((m) => m.to.includes(to)), {
      timeoutMs: 45_000,
      what: `${to} at the Net sink`,
    });
  };

  // The path shows in the Received headers (newest first); X-Mailbus-Routing-Groups stays inside.
  const path = (m: ReceivedMessage) =>
    header(m, 'Received').map((r) => /by (\w)\.contoso\.test/.exec(r)?.[1]);

  test('all links up: A -> B -> C', async () => {
    const m = await sendFromA('first@example.net');
    assert.deepEqual(path(m), ['c', 'b', 'a']);
  });

  test('B unreachable: A-B fails, the mail fails over to the direct A-C', async () => {
    await nodes.get('B')?.close();
    const m = await sendFromA('second@example.net');
    assert.deepEqual(path(m), ['c', 'a']);
  });
});
