import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeMessage, RedisServer, sendMail, SinkServer } from '@mailbus/testing';
import { MailbusProcess, workDir } from './mailbus-process.js';

test(
  'ingress, bridgehead and admin as three processes on one host from one config: all stay up, mail flows, each serves its own /metrics, each writes its own protocol log files',
  { timeout: 120_000 },
  async () => {
    const redis = await RedisServer.start();
    const sink = await SinkServer.start();
    const [smtp, adminPort, ingressHttp, bridgeheadHttp, unused] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const { dir, config } = workDir(`
redis: { url: "${redis.url}" }
admin: { listen: "127.0.0.1:${adminPort}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - name: default
    listen: "127.0.0.1:${smtp}"
    fqdn: mail.roles.test
    relay: { allow: [127.0.0.0/8] }
    protocolLog: { enabled: true, directory: logs }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${sink.port}"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
    const env = { MAILBUS_TEST_TOKEN: 'secret' };
    const start = (role: string, extra: string[] = [], more: NodeJS.ProcessEnv = {}) =>
      MailbusProcess.spawn(['start', '--config', config, '--role', role, ...extra], {
        cwd: dir,
        env: { ...env, ...more },
      });
    const nodes = [
      // The flag wins over MAILBUS_HTTP_LISTEN.
      start('ingress', ['--http-listen', `127.0.0.1:${ingressHttp}`], {
        MAILBUS_HTTP_LISTEN: `127.0.0.1:${unused}`,
      }),
      start('bridgehead', [], { MAILBUS_HTTP_LISTEN: `127.0.0.1:${bridgeheadHttp}` }),
      start('admin'),
    ];
    try {
      await Promise.all(nodes.map((n) => n.waitForOutput('mailbus running')));
      const sent = await sendMail({
        port: smtp,
        from: 'a@sender.test',
        to: ['b@far.example'],
        raw: makeMessage({ from: 'a@sender.test', to: 'b@far.example', subject: 'three roles' }),
      });
      assert.match(sent.response, /^250 /);
      const [msg] = await sink.waitForMessages(1, 30_000);
      assert.match(msg?.raw.toString() ?? '', /Subject: three roles/);
      for (const [port, metric] of [
        [ingressHttp, /mailbus_messages_accepted_total\{[^}]*\} 1/],
        [bridgeheadHttp, /mailbus_/],
        [adminPort, /mailbus_queue_depth/],
      ] as const) {
        const r = await fetch(`http://127.0.0.1:${port}/metrics`);
        assert.equal(r.status, 200, `metrics on ${port}`);
        assert.match(await r.text(), metric);
      }
      await assert.rejects(fetch(`http://127.0.0.1:${unused}/metrics`), 'the env port is unused');
      for (const n of nodes) assert.equal(n.child.exitCode, null, n.output);
      for (const n of nodes) n.signalGroup('SIGTERM');
      for (const n of nodes) assert.equal((await n.exited).code, 0, n.output);
      // Ingress (inbound lines) and bridgehead (outbound lines) each wrote under their own node directory.
      const perNode = readdirSync(join(dir, 'logs', 'default'));
      assert.equal(perNode.length, 2, `node directories: ${perNode.join(', ')}`);
      for (const node of perNode) {
        assert.match(node, /-\d+$/, 'host-pid');
        assert.equal(readdirSync(join(dir, 'logs', 'default', node)).length, 1);
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await sink.close();
      await redis.close();
    }
  },
);
