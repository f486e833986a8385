import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeMessage, sendMail, SinkServer } from '@mailbus/testing';
import { mailbus, MailbusProcess, workDir } from './mailbus-process.js';

test(
  'the embedded default keeps queued mail across Ctrl-C: start, queue for a dead smart host, SIGINT, start again, the other commands find its Redis, the message is delivered',
  { timeout: 120_000 },
  async () => {
    const [smtp, http, sinkPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const { dir, config } = workDir(`
admin: { listen: "127.0.0.1:${http}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.restart.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${sinkPort}"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
    const env = { MAILBUS_TEST_TOKEN: '' }; // no admin secret configured: the embedded default's token file
    const dataDir = join(dir, '.mailbus');
    let gw = MailbusProcess.spawn(['start', '--config', config], { cwd: dir, env });
    let sink: SinkServer | undefined;
    try {
      await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
      assert.ok(gw.output.includes(`data  ${dataDir}`), gw.output);
      assert.ok(existsSync(join(dataDir, 'run.json')), 'the run file is written');
      // The admin token is kept in a mode-600 file, never printed into the log stream.
      const tokenFile = join(dataDir, 'admin-token');
      const token = readFileSync(tokenFile, 'utf8').trim();
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.ok(!gw.output.includes(token), 'the token is not printed');
      assert.ok(gw.output.includes(`admin token in ${tokenFile}`), gw.output);
      const api = await fetch(`http://127.0.0.1:${http}/api/connectors`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(api.status, 200);
      const sent = await sendMail({
        port: smtp,
        from: 'a@sender.test',
        to: ['b@far.example'],
        raw: makeMessage({
          from: 'a@sender.test',
          to: 'b@far.example',
          subject: 'kept across restarts',
        }),
      });
      assert.match(sent.response, /^250 2\.0\.0 OK queued as /);
      // The other commands find the embedded Redis through the run file (cwd: the same data dir).
      const list = mailbus(['queue', 'list', 'Internet', '--config', config], { cwd: dir, env });
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /from <a@sender\.test> to b@far\.example/);

      gw.interrupt();
      assert.deepEqual(await gw.exited, { code: 0, signal: null }, gw.output);
      assert.match(
        gw.output,
        new RegExp(`1 message still queued in ${dataDir}, delivered on the next start`),
      );
      assert.ok(!existsSync(join(dataDir, 'run.json')), 'the run file is removed on stop');
      const stopped = mailbus(['queue', 'list', 'Internet', '--config', config], {
        cwd: dir,
        env,
      });
      assert.equal(stopped.status, 1);
      assert.match(stopped.stderr, /MAILBUS_ERR_REDIS_UNREACHABLE: no Redis to talk to/);

      gw = MailbusProcess.spawn(['start', '--config', config], { cwd: dir, env });
      await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
      sink = await SinkServer.start({ port: sinkPort });
      const retry = mailbus(['connector', 'retry', 'Internet', '--config', config], {
        cwd: dir,
        env,
      });
      assert.equal(retry.status, 0, retry.stderr);
      const [msg] = await sink.waitForMessages(1, 30_000);
      assert.match(msg?.raw.toString() ?? '', /Subject: kept across restarts/);
      gw.signalGroup('SIGTERM');
      assert.deepEqual(await gw.exited, { code: 0, signal: null }, gw.output);
      assert.match(gw.output, /mailbus stopped: no messages queued/);
    } finally {
      await gw.stop();
      await sink?.close();
    }
  },
);
