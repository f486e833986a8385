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
import { contosoGatewayYaml } from './support/contoso-gateway.js';
import { protocolLog } from './support/protocol-log-files.js';
import { hasPostfix, PostfixNextHop } from './support/postfix-next-hop.js';

/**
 * "Request ETRN/TURN when sending messages" against a real ISP: a private
 * Postfix holds deferred mail for contoso.test (its next hop, mailbus, was
 * down), with fast_flush_domains and smtpd_etrn_restrictions as an ISP sets
 * them, and retries only after an hour. mailbus comes up, sends a message
 * through it, then ETRN contoso.test: Postfix flushes the held mail into
 * mailbus's ingress, which hands it to the mailbox host. ETRN for a domain
 * Postfix does not flush fails, is counted and logged, and the delivery stands.
 */
describe(
  'advanced.request: etrn against Postfix as the ISP',
  { skip: !hasPostfix && 'needs root and Postfix' },
  () => {
    let redis: RedisServer;
    let isp: PostfixNextHop;
    let mailbox: SinkServer;
    let gateway: MailbusProcess | undefined;
    let smtp: number;
    let admin: number;
    const logs = mkdtempSync(join(tmpdir(), 'mailbus-etrn-logs-'));

    before(async () => {
      redis = await RedisServer.start();
      mailbox = await SinkServer.start();
      smtp = await freePort();
      admin = await freePort();
      isp = await PostfixNextHop.start({
        main: [
          'relay_domains = contoso.test',
          'fast_flush_domains = $relay_domains',
          'smtpd_etrn_restrictions = permit_mynetworks, reject',
          `transport_maps = inline:{ contoso.test=smtp:[127.0.0.1]:${smtp}, outside.test=discard: }`,
          'smtpd_end_of_data_restrictions =',
          'smtp_connect_timeout = 2s',
          'queue_run_delay = 1h',
          'minimal_backoff_time = 1h',
          'maximal_backoff_time = 2h',
        ],
      });
    });

    after(async () => {
      await gateway?.close();
      await Promise.all([isp?.close(), mailbox?.close()]);
      await redis?.close();
    });

    test('after a delivery, ETRN per domain: Postfix delivers the held mail into mailbus; a refused ETRN is counted and changes nothing', async () => {
      // The ISP receives mail for us while mailbus is down: deferred, retried in an hour.
      await sendMail({
        port: isp.port,
        from: 'carol@example.org',
        to: ['alice@contoso.test'],
        raw: makeMessage({
          from: 'carol@example.org',
          to: 'alice@contoso.test',
          subject: 'held at the ISP',
        }),
      });
      await waitFor(() => isp.deferred().length === 1, {
        timeoutMs: 20_000,
        what: `the ISP defers the mail for contoso.test (log: ${isp.log()})`,
      });

      const gw = (gateway = await MailbusProcess.start(
        contosoGatewayYaml({
          redisUrl: redis.url,
          smtp,
          logs,
          mailboxPort: mailbox.port,
          top: `admin: { listen: "127.0.0.1:${admin}", tokenEnv: ETRN_TEST_TOKEN }`,
          isp: [
            `smartHosts: ["[127.0.0.1]:${isp.port}"]`,
            'bridgeheads: [gw]',
            'addressSpaces: [{ domain: "*" }]',
            'advanced: { request: etrn, domains: [contoso.test, unflushed.test] }',
          ],
        }),
        {
          listening: [`127.0.0.1:${smtp}`],
          args: ['--role', 'ingress,bridgehead,admin'],
          env: { ETRN_TEST_TOKEN: 'etrn-secret' },
        },
      ));
      assert.equal(mailbox.messages.length, 0, 'nothing arrives before the ETRN');

      const sent = await sendMail({
        port: smtp,
        from: 'alice@contoso.test',
        to: ['dave@outside.test'],
        raw: makeMessage({
          from: 'alice@contoso.test',
          to: 'dave@outside.test',
          subject: 'outbound',
        }),
      });

      const [held] = await mailbox.waitForMessages(1, 30_000);
      assert.match(held?.raw.toString() ?? '', /Subject: held at the ISP/);
      assert.deepEqual(held?.to, ['alice@contoso.test']);
      assert.equal(isp.deferred().length, 0);

      // The outbound message was delivered (Postfix discarded it for outside.test), ETRN or not.
      await waitFor(
        () =>
          /status=sent \(discarded\)|discard.*outside\.test|outside\.test.*discard/.test(isp.log()),
        {
          timeoutMs: 20_000,
          what: `Postfix delivers the outbound message (log: ${isp.log()})`,
        },
      );

      // Each ETRN and its reply in the outbound protocol log: wait for the second reply (the
      // two ETRNs go one after the other on one session, so the first alone is not the end).
      const etrnOk =
        /OutboundConnectionCommand .* ETRN contoso\.test .*\r\n.*OutboundConnectionResponse .* Queuing\+started 250 /;
      const etrnFailed =
        /OutboundConnectionCommand .* ETRN unflushed\.test .*\r\n.*OutboundConnectionResponse .*service\+unavailable 459 /;
      await waitFor(() => etrnOk.test(protocolLog(logs)) && etrnFailed.test(protocolLog(logs)), {
        timeoutMs: 10_000,
        what: () => `both ETRNs and their replies in the protocol log:\n${protocolLog(logs)}`,
      });

      // The counters follow the replies: wait until the scrape shows all three.
      const counted = [
        /mailbus_etrn_requests_total\{connector="ISP",result="ok"\} 1/,
        /mailbus_etrn_requests_total\{connector="ISP",result="failed"\} 1/,
        /mailbus_messages_delivered_total\{connector="ISP"\} 1/,
      ];
      let metrics = '';
      await waitFor(
        async () => {
          metrics = await (
            await fetch(`http://127.0.0.1:${admin}/metrics`, {
              headers: { authorization: 'Bearer etrn-secret' },
            })
          ).text();
          return counted.every((re) => re.test(metrics));
        },
        { timeoutMs: 10_000, what: () => `ETRN and delivery counters in /metrics:\n${metrics}` },
      );
      await waitFor(() => /ETRN request failed/.test(gw.output), {
        what: () => `the failed ETRN in mailbus's log:\n${gw.output}`,
      });

      // Tracked on the message whose delivery it followed.
      const queueId = /queued as ([0-9A-Z]+)/.exec(sent.response)?.[1] ?? '';
      assert.notEqual(queueId, '', sent.response);
      // Tracking events are written as the session ends: ask until both are there.
      let tracked = '';
      await waitFor(
        () => {
          const track = spawnSync(
            process.execPath,
            [MAIN, 'track', queueId, '--config', join(gw.dir, 'mailbus.yaml'), '--json'],
            { encoding: 'utf8', timeout: 30_000 },
          );
          assert.equal(track.status, 0, track.stderr);
          tracked = track.stdout;
          return (
            /"type":\s*"etrn"[^}]*ETRN contoso\.test: ok/.test(tracked) &&
            /"type":\s*"etrn"[^}]*ETRN unflushed\.test: failed/.test(tracked)
          );
        },
        {
          timeoutMs: 20_000,
          intervalMs: 500,
          what: () => `both ETRNs in mailbus track:\n${tracked}`,
        },
      );
    });
  },
);
