import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, makeMessage, RedisServer, sendMail, SmtpDialog } from '@mailbus/testing';
import { startMailbus } from './delivery-processes.js';
import { GatewayFixture } from './support/gateway-fixture.js';

describe('fault injection on real processes', () => {
  let redis: RedisServer;
  let dir: string;

  before(async () => {
    redis = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'mailbus-fault-'));
  });
  after(async () => {
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('SIGKILL of an ingress process mid-DATA leaves nothing half-queued: no job, no body', async () => {
    const port = await freePort();
    const file = join(dir, 'ingress.yaml');
    writeFileSync(
      file,
      `organization: Test
redis: { url: "${redis.url}" }
virtualServers:
  - name: mx
    listen: 127.0.0.1:${port}
    fqdn: mx.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Alpha
    smartHosts: ["[127.0.0.1]:9"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: a.example }]
`,
    );
    const { child } = await startMailbus(file, {}, ['--role', 'ingress']);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      const { dialog } = await SmtpDialog.open(port);
      await dialog.send('EHLO client.test');
      assert.equal((await dialog.send('MAIL FROM:<a@sender.test>')).code, 250);
      assert.equal((await dialog.send('RCPT TO:<b@a.example>')).code, 250);
      assert.equal((await dialog.send('DATA')).code, 354);
      dialog.write(`Subject: half\r\n\r\n${'partial line\r\n'.repeat(2000)}`);
      // Half a message is at the ingress's socket, no end of data: the kill falls mid-DATA.
      await dialog.flushed();
      child.kill('SIGKILL');
      await exited;
      await assert.rejects(dialog.read(3000), 'the client never saw a 250');
      dialog.close();
    } finally {
      child.kill('SIGKILL');
    }
    const c = redis.client();
    try {
      const keys = await c.keys('mailbus:*');
      assert.deepEqual(
        keys.filter((k) => k.startsWith('mailbus:m:')),
        [],
        'no message body was stored',
      );
      const jobs = keys.filter((k) =>
        /^mailbus:\{Alpha[^}]*\}:(wait|delayed|prioritized|active)$/.test(k),
      );
      for (const k of jobs) {
        const type = await c.type(k);
        const n = type === 'list' ? await c.llen(k) : await c.zcard(k);
        assert.equal(n, 0, `${k} holds no job`);
      }
    } finally {
      c.disconnect();
    }
  });

  test('a smart host that takes the data and drops the connection before its reply gets the message again on retry', async () => {
    let first = true;
    const f = await GatewayFixture.start({
      sinks: {
        sink: {
          onData: () => {
            if (first) {
              first = false;
              return 'drop';
            }
            return undefined;
          },
        },
      },
      ports: ['port'],
      config: ({ redis, sinks: { sink }, ports }) => `
organization: Test
redis: { url: "${redis.url}", prefix: drop }
virtualServers:
  - name: mx
    listen: 127.0.0.1:${ports.port}
    fqdn: mx.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Dropper
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: d.example }]
    retry: { intervals: [1s] }
`,
    });
    const {
      sinks: { sink },
      ports: { port },
    } = f;
    try {
      const raw = makeMessage({
        from: 'a@sender.test',
        to: 'b@d.example',
        subject: 'dropped once',
      });
      assert.match(
        (await sendMail({ port, from: 'a@sender.test', to: ['b@d.example'], raw })).response,
        /^250 /,
      );
      await sink.waitForMessages(1, 20_000);
      // Nothing left in the queue that could deliver a second copy.
      await f.drained();
      assert.equal(sink.messages.length, 1, 'delivered once after the retry');
      assert.ok(sink.connections >= 2, 'the first attempt was dropped and retried');
    } finally {
      await f.close();
    }
  });
});
