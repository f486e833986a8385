import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  makeMessage,
  makeTestCertificate,
  RedisServer,
  sendMail,
  SinkServer,
} from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { cramMd5Secret, hashPassword } from '@mailbus/ingress';
import { queueOf } from './delivery-helpers.js';
import { startGateway } from './support/start-gateway.js';

const hasFetchmail = await new Promise<boolean>((resolve) =>
  execFile('fetchmail', ['--version'], (err) => resolve(!err || err.code !== 'ENOENT')),
);

/** One fetchmail run (ODMR, RFC 2645) to its end: status and everything it printed. */
function fetchmail(dir: string, rc: string): Promise<{ status: number; output: string }> {
  const file = join(dir, `fetchmailrc-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, rc);
  chmodSync(file, 0o600);
  return new Promise((resolve) => {
    execFile(
      'fetchmail',
      ['--nosyslog', '-N', '-v', '-f', file],
      { env: { ...process.env, HOME: dir, FETCHMAILHOME: dir }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: number | string }).code ?? 1) : 0;
        resolve({ status: Number.isFinite(code) ? code : 1, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe(
  'fetchmail (ODMR client) collects held mail from mailbus with AUTH and ATRN',
  { skip: !hasFetchmail && 'fetchmail is not installed' },
  () => {
    let redis: RedisServer;
    let gateway: Gateway | undefined;
    let sink: SinkServer;
    let odmr: number;
    let hub: number;
    let dir: string;
    const cert = makeTestCertificate('odmr.mailbus.test');

    before(async () => {
      redis = await RedisServer.start();
      sink = await SinkServer.start();
      hub = await freePort();
      odmr = await freePort();
      dir = mkdtempSync(join(tmpdir(), 'mailbus-fetchmail-'));
      writeFileSync(
        join(dir, 'users'),
        `branch:${await hashPassword('branch-pw')}:${cramMd5Secret('branch-pw')}\n` +
          `alice:${await hashPassword('alice-pw')}:${cramMd5Secret('alice-pw')}\n`,
      );
      gateway = await startGateway(`
organization: Test
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${hub}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
  - name: odmr
    listen: 127.0.0.1:${odmr}
    fqdn: odmr.mailbus.test
    auth: { usersFile: ${join(dir, 'users')} }
    tls: { cert: ${cert.certFile}, key: ${cert.keyFile}, implicit: true }
    protocolLog: { enabled: true, directory: ${join(dir, 'logs')} }
connectors:
  - name: Branch
    smartHosts: ["[127.0.0.1]:9"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: branch.example }]
    delivery: { remoteTriggered: true, triggerAccounts: [branch] }
`);
    });

    after(async () => {
      await gateway?.close();
      await sink?.close();
      await redis?.close();
      cert.cleanup();
    });

    const rc = (user: string) =>
      `poll 127.0.0.1 protocol ODMR port ${odmr} user "${user}" password "${user}-pw"` +
      ` fetchdomains branch.example smtphost 127.0.0.1/${sink.port} ssl no sslcertck\n`;

    test('an account not in triggerAccounts: fetchmail reports the ATRN refused and nothing moves', async () => {
      await sendMail({
        port: hub,
        from: 'alice@sender.test',
        to: ['bob@branch.example'],
        raw: makeMessage({
          from: 'alice@sender.test',
          to: 'bob@branch.example',
          subject: 'held-for-fetchmail-1',
        }),
      });
      const r = await fetchmail(dir, rc('alice'));
      assert.match(r.output, /ODMR> AUTH CRAM-MD5/);
      assert.match(r.output, /ATRN request refused/, r.output);
      assert.notEqual(r.status, 0);
      assert.equal(sink.messages.length, 0);
      assert.equal(
        await queueOf(gateway as Gateway)
          .queues.queue('Branch')
          .getDelayedCount(),
        1,
      );
    });

    test('the trigger account: AUTH CRAM-MD5 over TLS, ATRN, turnaround; the sink gets the held mail and the queue is empty', async () => {
      await sendMail({
        port: hub,
        from: 'carol@sender.test',
        to: ['dave@branch.example', 'erin@branch.example'],
        raw: makeMessage({
          from: 'carol@sender.test',
          to: 'dave@branch.example',
          subject: 'held-for-fetchmail-2',
        }),
      });
      const r = await fetchmail(dir, rc('branch'));
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /ODMR> ATRN branch\.example/);
      assert.match(r.output, /SMTP< 250-AUTH PLAIN LOGIN CRAM-MD5/);
      assert.match(r.output, /Turnaround now/);
      // fetchmail relays the reversed session: mailbus's side of it is on the ODMR< lines.
      assert.match(r.output, /ODMR< EHLO odmr\.mailbus\.test/);
      assert.match(r.output, /ODMR< QUIT/);
      const got = await sink.waitForMessages(2);
      assert.deepEqual(got.map((m) => m.to.join(',')).sort(), [
        'bob@branch.example',
        'dave@branch.example,erin@branch.example',
      ]);
      assert.equal(got[0]?.clientHostname, 'odmr.mailbus.test');
      assert.ok(got.some((m) => m.raw.includes('Subject: held-for-fetchmail-2\r\n')));
      assert.equal(
        await queueOf(gateway as Gateway)
          .queues.queue('Branch')
          .getDelayedCount(),
        0,
      );
    });

    test('again with nothing held: fetchmail hears 453 "You have no mail" and ends normally', async () => {
      const r = await fetchmail(dir, rc('branch'));
      assert.match(r.output, /You have no mail/);
      assert.equal(r.status, 0, r.output);
    });

    test('the protocol log has the ATRN request and the reversed session as outbound lines', async () => {
      await gateway?.close(); // flushes the protocol log
      gateway = undefined;
      const base = join(dir, 'logs', 'odmr');
      const text = readdirSync(base)
        .flatMap((d) =>
          readdirSync(join(base, d)).map((f) => readFileSync(join(base, d, f), 'utf8')),
        )
        .join('');
      const lines = text.split('\n');
      assert.ok(
        lines.some((l) => / ATRN branch\.example 250 /.test(l)),
        text,
      );
      const out = (who: string, what: RegExp) =>
        lines.some((l) => l.includes(` ${who} `) && what.test(l));
      assert.ok(out('OutboundConnectionCommand', / EHLO odmr\.mailbus\.test /), text);
      assert.ok(out('OutboundConnectionCommand', / MAIL FROM:<carol@sender\.test>/), text);
      assert.ok(out('OutboundConnectionResponse', / 250 /), text);
      assert.ok(out('OutboundConnectionCommand', / QUIT /), text);
    });
  },
);
