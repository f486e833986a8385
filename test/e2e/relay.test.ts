import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeMessage,
  type RedisServer,
  sendMail,
  type SinkServer,
  SmtpDialog,
  waitFor,
} from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';
import { withoutOurReceived } from './support/start-gateway.js';

describe('mailbus relays end to end: ingress → Redis → bridgehead → smart host', () => {
  let f: GatewayFixture<'a' | 'b', 'open' | 'strict'>;
  let redis: RedisServer;
  let sinkA: SinkServer;
  let sinkB: SinkServer;
  let open: number;
  let strict: number;

  before(async () => {
    f = await GatewayFixture.start({
      sinks: { a: {}, b: {} },
      ports: ['open', 'strict'],
      config: (p) => `
organization: Test
redis: { url: "${p.redis.url}", commandTimeout: 1s }
recipientPolicies:
  - { domain: contoso.test, mailboxHosts: ["[127.0.0.1]:${p.sinks.b.port}"] }
virtualServers:
  - name: open
    listen: 127.0.0.1:${p.ports.open}
    fqdn: mx.open.test
    maxMessageSizeKB: 64
    maxRecipientsPerMessage: 3
    relay: { allow: [127.0.0.0/8] }
  - name: strict
    listen: 127.0.0.1:${p.ports.strict}
    fqdn: mx.strict.test
    relay: { allow: [] }
connectors:
  - name: Alpha
    smartHosts: ["[127.0.0.1]:${p.sinks.a.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: a.example }]
  - name: Beta
    smartHosts: ["[127.0.0.1]:${p.sinks.b.port}"]
    bridgeheads: [open]
    addressSpaces: [{ domain: "*.b.example" }, { domain: b.example }]
`,
    });
    ({
      redis,
      sinks: { a: sinkA, b: sinkB },
      ports: { open, strict },
    } = f);
  });

  after(() => f?.close());

  test('a message reaches the smart host with headers and body byte-identical', async () => {
    const raw = makeMessage({
      from: 'alice@sender.test',
      to: 'bob@a.example',
      body: 'Line one\r\n.leading dot\r\n\r\nlast line, ünïcode',
    });
    const r = await sendMail({ port: open, from: 'alice@sender.test', to: ['bob@a.example'], raw });
    assert.match(r.response, /^250 2\.0\.0 OK queued as [0-9A-Z]{18}$/);
    const [msg] = await sinkA.waitForMessages(1);
    assert.ok(msg);
    assert.equal(msg.from, 'alice@sender.test');
    assert.deepEqual(msg.to, ['bob@a.example']);
    assert.equal(
      withoutOurReceived(msg.raw).toString('latin1'),
      Buffer.from(raw).toString('latin1'),
    );
    assert.match(
      msg.raw.toString('latin1'),
      /^Received: from [^\r\n]+\r\n\tby mx\.open\.test \(mailbus\) with ESMTP id [0-9A-Z]{18}/,
    );
  });

  test('a message to two domains on two connectors reaches both smart hosts, once each', async () => {
    const beforeA = sinkA.messages.length;
    const beforeB = sinkB.messages.length;
    const raw = makeMessage({ from: 'alice@sender.test', to: 'x@a.example, y@deep.b.example' });
    await sendMail({
      port: open,
      from: 'alice@sender.test',
      to: ['x@a.example', 'y@deep.b.example'],
      raw,
    });
    await sinkA.waitForMessages(beforeA + 1);
    await sinkB.waitForMessages(beforeB + 1);
    assert.deepEqual(sinkA.messages[beforeA]?.to, ['x@a.example']);
    assert.deepEqual(sinkB.messages[beforeB]?.to, ['y@deep.b.example']);
  });

  test('an inbound domain is accepted from anyone and handed to its mailbox host', async () => {
    const beforeB = sinkB.messages.length;
    const raw = makeMessage({ from: 'stranger@elsewhere.test', to: 'ceo@contoso.test' });
    await sendMail({
      port: strict,
      from: 'stranger@elsewhere.test',
      to: ['ceo@contoso.test'],
      raw,
    });
    const msgs = await sinkB.waitForMessages(beforeB + 1);
    assert.deepEqual(msgs[beforeB]?.to, ['ceo@contoso.test']);
  });

  test('relay to a foreign domain from a client not allowed to relay gets 550 5.7.1', async () => {
    const { dialog } = await SmtpDialog.open(strict);
    await dialog.send('EHLO client.test');
    assert.equal((await dialog.send('MAIL FROM:<a@sender.test>')).code, 250);
    const r = await dialog.send('RCPT TO:<victim@a.example>');
    assert.equal(r.lines[0], '550 5.7.1 Unable to relay');
    await dialog.quit();
  });

  test('a declared size over the limit gets 552 5.3.4 at MAIL FROM, and so does an oversized DATA', async () => {
    const { dialog } = await SmtpDialog.open(open);
    const ehlo = await dialog.send('EHLO client.test');
    assert.ok(
      ehlo.lines.some((l) => /SIZE 65536$/.test(l)),
      'SIZE is advertised',
    );
    assert.ok(ehlo.lines.some((l) => /ENHANCEDSTATUSCODES/.test(l)));
    const big = await dialog.send('MAIL FROM:<a@sender.test> SIZE=70000');
    assert.equal(big.code, 552);
    assert.match(big.lines[0] ?? '', /^552 5\.3\.4 /);
    assert.equal((await dialog.send('MAIL FROM:<a@sender.test>')).code, 250);
    assert.equal((await dialog.send('RCPT TO:<b@a.example>')).code, 250);
    const r = await dialog.data(`Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(80));
    assert.match(r.lines[0] ?? '', /^552 5\.3\.4 /);
    await dialog.quit();
  });

  test('one recipient more than maxRecipientsPerMessage gets 452 4.5.3', async () => {
    const { dialog } = await SmtpDialog.open(open);
    await dialog.send('EHLO client.test');
    await dialog.send('MAIL FROM:<a@sender.test>');
    for (const n of [1, 2, 3])
      assert.equal((await dialog.send(`RCPT TO:<r${n}@a.example>`)).code, 250);
    const r = await dialog.send('RCPT TO:<r4@a.example>');
    assert.match(r.lines[0] ?? '', /^452 4\.5\.3 /);
    await dialog.quit();
  });

  test('a recipient no address space matches gets 550 5.4.4', async () => {
    const { dialog } = await SmtpDialog.open(open);
    await dialog.send('EHLO client.test');
    await dialog.send('MAIL FROM:<a@sender.test>');
    const r = await dialog.send('RCPT TO:<someone@nowhere.example>');
    assert.match(r.lines[0] ?? '', /^550 5\.4\.4 /);
    await dialog.quit();
  });

  test('with Redis stopped the client gets 451 4.3.0 within seconds; after a restart mail flows again', async () => {
    await redis.stop();
    const raw = makeMessage({
      from: 'alice@sender.test',
      to: 'bob@a.example',
      subject: 'during outage',
    });
    const started = Date.now();
    await assert.rejects(
      sendMail({ port: open, from: 'alice@sender.test', to: ['bob@a.example'], raw }),
      (e: { responseCode?: number; response?: string }) => {
        assert.equal(e.responseCode, 451);
        assert.match(e.response ?? '', /^451 4\.3\.0 /);
        return true;
      },
    );
    assert.ok(Date.now() - started < 8000, 'answered within a few seconds');
    await redis.restart();
    const count = sinkA.messages.length;
    await waitFor(
      async () => {
        try {
          await sendMail({
            port: open,
            from: 'alice@sender.test',
            to: ['bob@a.example'],
            raw: makeMessage({
              from: 'alice@sender.test',
              to: 'bob@a.example',
              subject: 'after restart',
            }),
          });
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000, intervalMs: 500, what: 'ingress to accept mail after Redis restart' },
    );
    const msgs = await sinkA.waitForMessages(count + 1, 30_000);
    assert.ok(msgs.some((m) => m.raw.includes('Subject: after restart')));
    assert.ok(
      !msgs.some((m) => m.raw.includes('Subject: during outage')),
      'the refused message was not half-queued',
    );
  });
});
