import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  waitFor,
} from '@mailbus/testing';
import { MAIN, MailbusProcess } from './support/mailbus-process.js';
import { contosoGatewayYaml } from './support/contoso-gateway.js';
import { protocolLog } from './support/protocol-log-files.js';
import { windowOpenNow } from './support/open-window.js';
import { TurnPeer } from './support/turn-peer.js';

/**
 * "Issue TURN" (`advanced.request: turn`, seed 002): after delivering to the
 * smart host, mailbus sends TURN, or ATRN for `advanced.domains` where the
 * host offers ATRN (RFC 2645); on 250 the roles reverse on that connection:
 * mailbus greets with 220 and receives the host's mail for us as its
 * ingress would, answering 250 only once the message is queued on Redis.
 * The host is a scripted ISP (turn-peer.ts) that needs AUTH, as the seed
 * says TURN does.
 */
describe('advanced.request: turn against a scripted ISP', () => {
  let redis: RedisServer;
  let mailbox: SinkServer;
  let gateway: MailbusProcess | undefined;
  let ingressOnly: MailbusProcess | undefined;
  let peer: TurnPeer | undefined;
  let smtp: number;
  /** The metrics port of the process that requests TURN (never the shared default 8025). */
  let http: number;
  let logs: string;

  before(async () => {
    redis = await RedisServer.start();
    mailbox = await SinkServer.start();
    smtp = await freePort();
  });
  afterEach(async () => {
    await gateway?.close();
    await ingressOnly?.close();
    await peer?.close();
    gateway = undefined;
    ingressOnly = undefined;
    peer = undefined;
  });
  after(async () => {
    await mailbox?.close();
    await redis?.close();
  });

  const held = makeMessage({
    from: 'carol@example.org',
    to: 'alice@contoso.test',
    subject: 'held at the ISP',
  });

  /** With `split`, one process runs the ingress and another only the bridgehead (it receives after TURN). */
  async function run(atrn: boolean, subject: string, split = false) {
    logs = mkdtempSync(join(tmpdir(), 'mailbus-turn-logs-'));
    peer = await TurnPeer.start({
      atrn,
      user: 'contoso',
      pass: 'isp-s3cret',
      heldFor: 'alice@contoso.test',
      held,
    });
    const yaml = contosoGatewayYaml({
      redisUrl: redis.url,
      smtp,
      logs,
      mailboxPort: mailbox.port,
      isp: [
        `smartHosts: ["[127.0.0.1]:${peer.port}"]`,
        'bridgeheads: [gw]',
        'addressSpaces: [{ domain: outside.test }]',
        'outboundSecurity: { tls: none, auth: basic, username: contoso, passwordEnv: ISP_PASSWORD }',
        'advanced: { request: turn, domains: [contoso.test, branch.contoso.test] }',
      ],
    });
    const env = { ISP_PASSWORD: 'isp-s3cret' };
    http = await freePort();
    if (split) {
      ingressOnly = await MailbusProcess.start(yaml, {
        listening: [`127.0.0.1:${smtp}`],
        args: ['--role', 'ingress', '--http-listen', '127.0.0.1:0'],
        env,
      });
      gateway = await MailbusProcess.start(yaml, {
        listening: [],
        args: ['--role', 'bridgehead', '--http-listen', `127.0.0.1:${http}`],
        env,
      });
      await waitFor(() => /mailbus running/.test(gateway?.output ?? ''), {
        timeoutMs: 30_000,
        what: 'the bridgehead',
      });
    } else {
      gateway = await MailbusProcess.start(yaml, {
        listening: [`127.0.0.1:${smtp}`],
        args: ['--role', 'ingress,bridgehead', '--http-listen', `127.0.0.1:${http}`],
        env,
      });
    }
    const before = mailbox.messages.length;
    const sent = await sendMail({
      port: smtp,
      from: 'alice@contoso.test',
      to: ['dave@outside.test'],
      raw: makeMessage({ from: 'alice@contoso.test', to: 'dave@outside.test', subject }),
    });
    const p = peer;
    await waitFor(() => mailbox.messages.length > before, {
      timeoutMs: 30_000,
      what: `the ISP's mail for us in the mailbox (peer saw: ${p.sessions.map((s) => s.transcript.join('\n')).join('\n---\n')}; mailbus: ${gateway.output})`,
    });
    const queueId = /queued as ([0-9A-Z]+)/.exec(sent.response)?.[1] ?? '';
    return {
      session: p.sessions[0],
      message: mailbox.messages[mailbox.messages.length - 1],
      queueId,
      out: gateway.output,
    };
  }

  test('the host offers ATRN: "ATRN contoso.test,branch.contoso.test", 250, and mailbus receives on the same connection', async () => {
    const { session, message, queueId } = await run(true, 'out via ATRN');
    const t = session?.transcript ?? [];
    // One connection: mailbus's mail out, then ATRN, then the roles reversed.
    const at = (l: string) => t.findIndex((x) => x.startsWith(l));
    assert.ok(at('C: AUTH PLAIN') >= 0, t.join('\n'));
    assert.ok(at('C: DATA') < at('C: ATRN contoso.test,branch.contoso.test'), t.join('\n'));
    assert.ok(at('S: 250 OK now reversing') < at('C: 220 '), t.join('\n'));
    assert.ok(at('C: 220 gw.contoso.test') < at('S: EHLO isp.test'), t.join('\n'));
    assert.equal(t.filter((l) => l.startsWith('C: TURN')).length, 0, 'ATRN, not TURN');
    // 250 to the peer's DATA only with a queue id: the message was durable on Redis first.
    assert.match(session?.dataReply ?? '', /^250 2\.0\.0 .*queued as [0-9A-Z]+/);
    assert.match(message?.raw.toString() ?? '', /Subject: held at the ISP/);
    assert.deepEqual(message?.to, ['alice@contoso.test']);
    // mailbus's side: the request in the protocol log, logged as a reversal, counted.
    const log = protocolLog(logs);
    assert.match(
      log,
      /OutboundConnectionCommand[^\r\n]* ATRN contoso\.test,branch\.contoso\.test /,
    );
    assert.match(log, /OutboundConnectionResponse[^\r\n]* 250 /);
    assert.match(gateway?.output ?? '', /TURN accepted: roles reversed, receiving/);
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    assert.match(metrics, /mailbus_turn_requests_total\{connector="ISP",result="reversed"\} 1/);
    // Tracked on the message whose delivery it followed.
    const track = spawnSync(
      process.execPath,
      [MAIN, 'track', queueId, '--config', join(gateway?.dir ?? '', 'mailbus.yaml'), '--json'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(track.status, 0, track.stderr);
    assert.match(
      track.stdout,
      /"type":\s*"turn"[^}]*ATRN contoso\.test,branch\.contoso\.test: roles reversed/,
    );
  });

  test('the host does not offer ATRN: TURN, 250, and the same reversal', async () => {
    const { session, message } = await run(false, 'out via TURN');
    const t = session?.transcript ?? [];
    const at = (l: string) => t.findIndex((x) => x.startsWith(l));
    assert.ok(at('C: DATA') < at('C: TURN'), t.join('\n'));
    assert.equal(t.filter((l) => l.startsWith('C: ATRN')).length, 0, 'TURN, not ATRN');
    assert.ok(at('S: 250 OK now reversing') < at('C: 220 gw.contoso.test'), t.join('\n'));
    assert.match(session?.dataReply ?? '', /^250 2\.0\.0 .*queued as [0-9A-Z]+/);
    assert.deepEqual(message?.to, ['alice@contoso.test']);
    assert.match(protocolLog(logs), /OutboundConnectionCommand[^\r\n]* TURN /);
  });

  test('a node with only the bridgehead role receives after TURN all the same', async () => {
    const { session, message, out } = await run(false, 'out from a bridgehead-only node', true);
    assert.match(out, /TURN accepted: roles reversed, receiving/);
    assert.match(session?.dataReply ?? '', /^250 2\.0\.0 .*queued as [0-9A-Z]+/);
    assert.deepEqual(message?.to, ['alice@contoso.test']);
  });

  test('advanced.server on a connection time: mailbus connects with nothing to send, TURN, and receives', async () => {
    logs = mkdtempSync(join(tmpdir(), 'mailbus-turn-logs-'));
    const p = await TurnPeer.start({
      atrn: false,
      user: 'contoso',
      pass: 'isp-s3cret',
      heldFor: 'alice@contoso.test',
      held,
    });
    peer = p;
    const w = windowOpenNow();
    const before = mailbox.messages.length;
    gateway = await MailbusProcess.start(
      contosoGatewayYaml({
        redisUrl: redis.url,
        smtp,
        mailboxPort: mailbox.port,
        isp: [
          'smartHosts: ["[127.0.0.1]:9"]',
          'bridgeheads: [gw]',
          'addressSpaces: [{ domain: outside.test }]',
          `delivery: { timezone: "${w.timezone}" }`,
          'outboundSecurity: { tls: none, auth: basic, username: contoso, passwordEnv: ISP_PASSWORD }',
          `advanced: { request: turn, server: "[127.0.0.1]:${p.port}", schedule: "${w.schedule}" }`,
        ],
      }),
      { listening: [`127.0.0.1:${smtp}`], env: { ISP_PASSWORD: 'isp-s3cret' } },
    );
    await waitFor(() => mailbox.messages.length > before, {
      timeoutMs: 30_000,
      what: `the ISP's mail for us (peer saw: ${p.sessions.map((x) => x.transcript.join('\n')).join('\n---\n')}; mailbus: ${gateway.output})`,
    });
    const t = p.sessions[0]?.transcript ?? [];
    assert.equal(t.filter((l) => /^C: (MAIL|DATA)/.test(l)).length, 0, 'nothing sent before TURN');
    assert.ok(
      t.some((l) => l === 'C: TURN'),
      t.join('\n'),
    );
    assert.match(p.sessions[0]?.dataReply ?? '', /^250 2\.0\.0 .*queued as [0-9A-Z]+/);
    assert.match(gateway.output, /connection time: requesting TURN/);
  });
});
