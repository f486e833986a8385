import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { freePort, makeMessage, SinkServer, SmtpDialog } from '@mailbus/testing';
import { mailbus, MailbusProcess, workDir } from './mailbus-process.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

test(
  'SIGHUP is logged and ignored; SIGTERM between RCPT and DATA lets that transaction finish with 250, an idle session gets 421 4.3.2 at its next MAIL, and the message is delivered after restart',
  { timeout: 120_000 },
  async () => {
    const [smtp, http, sinkPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const { dir, config } = workDir(`
admin: { listen: "127.0.0.1:${http}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.drain.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${sinkPort}"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
    const env = { MAILBUS_TEST_TOKEN: 'secret' };
    let gw = MailbusProcess.spawn(['start', '--config', config], { cwd: dir, env });
    let sink: SinkServer | undefined;
    try {
      await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
      gw.signalGroup('SIGHUP');
      await gw.waitForOutput('SIGHUP ignored');
      assert.equal(gw.child.exitCode, null, 'SIGHUP did not stop mailbus');

      const a = (await SmtpDialog.open(smtp)).dialog;
      const b = (await SmtpDialog.open(smtp)).dialog;
      assert.equal((await a.send('EHLO a.test')).code, 250);
      assert.equal((await b.send('EHLO b.test')).code, 250);
      assert.equal((await a.send('MAIL FROM:<a@sender.test>')).code, 250);
      assert.equal((await a.send('RCPT TO:<b@far.example>')).code, 250);

      gw.signalGroup('SIGTERM');
      await gw.waitForOutput('stopping: no new sessions');
      assert.ok(await refused(smtp), 'no new connections while draining');
      const idle = await b.send('MAIL FROM:<c@sender.test>');
      assert.equal(idle.code, 421);
      assert.match(idle.lines[0] ?? '', /^421 4\.3\.2 /);
      const done = await a.data(
        makeMessage({
          from: 'a@sender.test',
          to: 'b@far.example',
          subject: 'finished while draining',
        }),
      );
      assert.equal(done.code, 250, done.text);
      assert.match(done.text, /queued as/);
      const next = await a.send('MAIL FROM:<a@sender.test>');
      assert.match(next.lines[0] ?? '', /^421 4\.3\.2 /);
      a.close();
      b.close();
      assert.deepEqual(await gw.exited, { code: 0, signal: null }, gw.output);
      assert.match(gw.output, /1 message still queued/);

      gw = MailbusProcess.spawn(['start', '--config', config], { cwd: dir, env });
      await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
      sink = await SinkServer.start({ port: sinkPort });
      const retry = mailbus(['connector', 'retry', 'Internet', '--config', config], {
        cwd: dir,
        env,
      });
      assert.equal(retry.status, 0, retry.stderr);
      const [msg] = await sink.waitForMessages(1, 30_000);
      assert.match(msg?.raw.toString() ?? '', /Subject: finished while draining/);
    } finally {
      await gw.stop();
      await sink?.close();
    }
  },
);

test(
  'a session still in its transaction when limits.drainTimeout ends gets 421 4.3.2 and its message is not taken',
  { timeout: 120_000 },
  async () => {
    const [smtp, http] = await Promise.all([freePort(), freePort()]);
    const { dir, config } = workDir(`
admin: { listen: "127.0.0.1:${http}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - name: default
    listen: "127.0.0.1:${smtp}"
    fqdn: mail.drain.test
    relay: { allow: [127.0.0.0/8] }
    limits: { drainTimeout: 2s }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
    const gw = MailbusProcess.spawn(['start', '--config', config], {
      cwd: dir,
      env: { MAILBUS_TEST_TOKEN: 'secret' },
    });
    try {
      await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
      const { dialog } = await SmtpDialog.open(smtp);
      assert.equal((await dialog.send('EHLO slow.test')).code, 250);
      assert.equal((await dialog.send('MAIL FROM:<a@sender.test>')).code, 250);
      assert.equal((await dialog.send('RCPT TO:<b@far.example>')).code, 250);
      // The client stalls between RCPT and DATA past the drain timeout.
      gw.signalGroup('SIGTERM');
      await gw.waitForOutput('stopping: no new sessions');
      // Within 15 s: the 2 s configured, not the 30 s default.
      const bye = await dialog.read(15_000);
      assert.equal(bye.code, 421, bye.text);
      assert.match(bye.lines[0] ?? '', /^421 4\.3\.2 /);
      dialog.close();
      assert.deepEqual(await gw.exited, { code: 0, signal: null }, gw.output);
      assert.match(gw.output, /no messages queued/);
    } finally {
      await gw.stop();
    }
  },
);
