import { after, before, describe, test } from 'node:test';
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
import { windowOpenNow } from './support/open-window.js';
import { contosoGatewayYaml } from './support/contoso-gateway.js';
import { protocolLog } from './support/protocol-log-files.js';
import { hasPostfix, PostfixNextHop } from './support/postfix-next-hop.js';

/**
 * "Request ETRN/TURN from a different server … specify a connection time"
 * against a real ISP: a private Postfix holds deferred mail for contoso.test
 * (fast_flush_domains, smtpd_etrn_restrictions). Two mailbus nodes send for
 * the connector; its connection time's window is open when they start, so
 * each would connect "once at start": the Redis lease lets exactly one of
 * them connect, with nothing to send, and issue ETRN. Postfix then delivers
 * the held mail into mailbus's ingress.
 */
describe(
  'advanced.server + advanced.schedule: ETRN from a different server at its connection time',
  { skip: !hasPostfix && 'needs root and Postfix' },
  () => {
    let redis: RedisServer;
    let isp: PostfixNextHop;
    let mailbox: SinkServer;
    const nodes: MailbusProcess[] = [];
    let smtp: number;
    const logs = mkdtempSync(join(tmpdir(), 'mailbus-etrn-schedule-logs-'));

    before(async () => {
      redis = await RedisServer.start();
      mailbox = await SinkServer.start();
      smtp = await freePort();
      isp = await PostfixNextHop.start({
        main: [
          'relay_domains = contoso.test',
          'fast_flush_domains = $relay_domains',
          'smtpd_etrn_restrictions = permit_mynetworks, reject',
          `transport_maps = inline:{ contoso.test=smtp:[127.0.0.1]:${smtp} }`,
          'smtpd_end_of_data_restrictions =',
          'smtp_connect_timeout = 2s',
          'queue_run_delay = 1h',
          'minimal_backoff_time = 1h',
          'maximal_backoff_time = 2h',
        ],
      });
    });

    after(async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await Promise.all([isp?.close(), mailbox?.close()]);
      await redis?.close();
    });

    test('two nodes, one due time: one connection, one ETRN; Postfix delivers the held mail into mailbus', async () => {
      await sendMail({
        port: isp.port,
        from: 'carol@example.org',
        to: ['alice@contoso.test'],
        raw: makeMessage({ from: 'carol@example.org', to: 'alice@contoso.test', subject: 'held' }),
      });
      await waitFor(() => isp.deferred().length === 1, {
        timeoutMs: 20_000,
        what: `the ISP defers the mail for contoso.test (log: ${isp.log()})`,
      });

      const w = windowOpenNow();
      const yaml = contosoGatewayYaml({
        redisUrl: redis.url,
        smtp,
        logs,
        mailboxPort: mailbox.port,
        isp: [
          'smartHosts: ["[127.0.0.1]:9"]',
          'bridgeheads: [gw]',
          'addressSpaces: [{ domain: outside.test }]',
          `delivery: { timezone: "${w.timezone}" }`,
          `advanced: { request: etrn, domains: [contoso.test], server: "[127.0.0.1]:${isp.port}", schedule: "${w.schedule}" }`,
        ],
      });
      // The node with the ingress first (the ETRN releases mail to it), then a bridgehead-only
      // node: both in the same window, so both find the same due time.
      const a = await MailbusProcess.start(yaml, {
        listening: [`127.0.0.1:${smtp}`],
        args: ['--role', 'ingress,bridgehead'],
      });
      const b = await MailbusProcess.start(yaml, { listening: [], args: ['--role', 'bridgehead'] });
      nodes.push(a, b);

      const requested = /connection time: requesting ETRN/;
      const lost = /connection time: another node requests for this due time/;
      await waitFor(
        () =>
          nodes.filter((n) => requested.test(n.output)).length === 1 &&
          nodes.filter((n) => lost.test(n.output)).length === 1,
        {
          timeoutMs: 30_000,
          what: `one node requests, the other stands aside (outputs: ${nodes.map((n) => n.output).join('\n---\n')})`,
        },
      );

      await waitFor(() => mailbox.messages.length === 1, {
        timeoutMs: 30_000,
        what: `the held mail in the mailbox (Postfix log: ${isp.log()}; nodes: ${nodes.map((n) => n.output).join('\n---\n')})`,
      });
      const [held] = mailbox.messages;
      assert.match(held?.raw.toString() ?? '', /Subject: held/);
      assert.deepEqual(held?.to, ['alice@contoso.test']);
      assert.equal(isp.deferred().length, 0);

      // What Postfix saw: one session from mailbus with one ETRN and no mail in it.
      await waitFor(() => /etrn=1/.test(isp.log()), {
        timeoutMs: 10_000,
        what: 'Postfix logs the session',
      });
      const sessions = isp
        .log()
        .split('\n')
        .filter((l) => /disconnect from .* etrn=/.test(l));
      assert.equal(sessions.length, 1, isp.log());
      assert.doesNotMatch(sessions[0] ?? '', /mail=/, 'nothing to send: no MAIL');

      // mailbus's side: one ETRN and its 250 in the protocol log, tracked under the request id.
      await waitFor(() => /ETRN contoso\.test/.test(protocolLog(logs)), {
        timeoutMs: 10_000,
        what: 'ETRN in the protocol log',
      });
      const log = protocolLog(logs);
      assert.equal(log.match(/OutboundConnectionCommand[^\r\n]*ETRN contoso\.test/g)?.length, 1);
      assert.match(log, /OutboundConnectionResponse .* Queuing\+started 250 /);
      const winner = nodes.find((n) => requested.test(n.output)) as MailbusProcess;
      const id = /"tracking_id":"(ETRN\.ISP\.\d+)"/.exec(winner.output)?.[1] ?? '';
      assert.notEqual(id, '', winner.output);
      assert.match(winner.output, /ETRN requested/);
      const track = spawnSync(
        process.execPath,
        [MAIN, 'track', id, '--config', join(winner.dir, 'mailbus.yaml'), '--json'],
        { encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(track.status, 0, track.stderr);
      assert.match(track.stdout, /"type":\s*"etrn"[^}]*ETRN contoso\.test: ok/);
    });
  },
);
