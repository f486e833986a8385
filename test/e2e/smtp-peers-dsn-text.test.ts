import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  waitFor,
  type ReceivedMessage,
} from '@mailbus/testing';
import { hasBounceParser, parseBounce } from './support/bounce-parser.js';
import { MailbusProcess } from './support/mailbus-process.js';

/**
 * DSN text (issue 14, finding 5) through the built `mailbus start`: a next hop's UTF-8
 * reply stays UTF-8 and the DSN names the command it answered; a refused connection is
 * described as such, with no "replied", no Remote-MTA and no internal address. Debian's
 * Mail::DeliveryStatus::BounceParser reads recipient, status and diagnostic.
 */
describe('DSN text against a real next hop and a real bounce parser', () => {
  let redis: RedisServer;
  let remote: SinkServer;
  let senders: SinkServer;
  let gateway: MailbusProcess;
  let mx: number;

  before(async () => {
    redis = await RedisServer.start();
    remote = await SinkServer.start({
      onRcpt: (a) =>
        a.startsWith('bad')
          ? { code: 550, text: `5.1.1 <${a}>: bäd mailbox, 메일 없음` }
          : undefined,
    });
    senders = await SinkServer.start();
    mx = await freePort();
    const closed = await freePort();
    gateway = await MailbusProcess.start(
      `
redis: { url: "${redis.url}" }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${mx}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - { name: Remote, smartHosts: ["[127.0.0.1]:${remote.port}"], bridgeheads: [hub], addressSpaces: [{ domain: utf8.test }] }
  - name: Refused
    smartHosts: ["[127.0.0.1]:${closed}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: refused.test }]
    retry: { intervals: [1s], expireAfter: 3s, delayNotifyAfter: 2s }
    linkState: { failuresToMarkDown: 100 }
  - { name: Senders, smartHosts: ["[127.0.0.1]:${senders.port}"], bridgeheads: [hub], addressSpaces: [{ domain: sender.test }] }
`,
      { listening: [`127.0.0.1:${mx}`] },
    );
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([remote?.close(), senders?.close()]);
    await redis?.close();
  });

  async function dsnFor(to: string, subject: string): Promise<ReceivedMessage> {
    const raw = makeMessage({ from: 'alice@sender.test', to, subject });
    await sendMail({ port: mx, from: 'alice@sender.test', to: [to], raw });
    const find = (): ReceivedMessage | undefined =>
      senders.messages.find((m) => m.raw.toString('latin1').includes(`Undeliverable: ${subject}`));
    await waitFor(() => find() !== undefined, { timeoutMs: 20_000, what: `the DSN for ${to}` });
    return find() as ReceivedMessage;
  }

  test(
    'a UTF-8 RCPT reply stays UTF-8 and is said to answer RCPT TO; the bounce parser reads it',
    { skip: !hasBounceParser && 'libmail-deliverystatus-bounceparser-perl is not installed' },
    async () => {
      const dsn = await dsnFor('bad@utf8.test', 'utf8-reply');
      const text = (await simpleParser(dsn.raw)).text ?? '';
      assert.match(
        text,
        /The remote server 127\.0\.0\.1 replied: 550 5\.1\.1 <bad@utf8\.test>: bäd mailbox, 메일 없음 \(in reply to RCPT TO command\)/,
      );
      assert.doesNotMatch(text, /Ã/, 'not read as latin1');
      const parsed = parseBounce(dsn.raw);
      assert.equal(parsed.isBounce, true);
      assert.equal(parsed.reports[0]?.email, 'bad@utf8.test');
      assert.equal(parsed.reports[0]?.status, '5.1.1');
      assert.match(parsed.reports[0]?.diagnostic ?? '', /^smtp; 550 5\.1\.1 <bad@utf8\.test>: b/);
    },
  );

  test(
    'a refused connection is described as such: no "replied", no Remote-MTA, no internal address',
    { skip: !hasBounceParser && 'libmail-deliverystatus-bounceparser-perl is not installed' },
    async () => {
      const dsn = await dsnFor('x@refused.test', 'refused-conn');
      const raw = dsn.raw.toString('utf8');
      const text = (await simpleParser(dsn.raw)).text ?? '';
      assert.match(text, /No server replied: the connection to the next server was refused\./);
      assert.doesNotMatch(text, /The (remote )?server .*replied:/);
      assert.doesNotMatch(raw, /ECONNREFUSED|127\.0\.0\.1:\d+|^Remote-MTA:/m);
      assert.match(
        raw,
        /^Diagnostic-Code: X-mailbus; the connection to the next server was refused$/m,
      );
      const parsed = parseBounce(dsn.raw);
      assert.equal(parsed.isBounce, true);
      assert.equal(parsed.reports[0]?.email, 'x@refused.test');
      assert.equal(parsed.reports[0]?.status, '5.4.7');
      assert.match(
        parsed.reports[0]?.diagnostic ?? '',
        /^X-mailbus; the connection to the next server was refused$/,
      );
    },
  );
});
