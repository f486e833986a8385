import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SinkServer } from '@mailbus/testing';
import { makeMessage, sendMail, SmtpDialog } from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';

/**
 * DESIGN "Routing" step 5: a restriction is applied at RCPT when its facts are
 * known then (SIZE= declared); otherwise, once the message is read, by DSN.
 */
describe('recipients unroutable once the size is known', () => {
  let f: GatewayFixture<'sink', 'port'>;
  let sink: SinkServer;
  let port: number;

  before(async () => {
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      ports: ['port'],
      config: (p) => `
redis: { url: "${p.redis.url}" }
admin: { listen: "127.0.0.1:0" }
virtualServers:
  - { name: d, listen: "127.0.0.1:${p.ports.port}", fqdn: mx.unroutable.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Small, smartHosts: ["[127.0.0.1]:${p.sinks.sink.port}"], bridgeheads: [d], addressSpaces: [{ domain: small.example }], contentRestrictions: { maxSizeKB: 10 } }
  - { name: Internet, smartHosts: ["[127.0.0.1]:${p.sinks.sink.port}"], bridgeheads: [d], addressSpaces: [{ domain: "*" }] }
`,
    });
    ({
      sinks: { sink },
      ports: { port },
    } = f);
  });

  after(() => f?.close());

  const big = ('y'.repeat(76) + '\r\n').repeat(300); // ~23 KB

  test('with SIZE= declared, the recipient is refused at RCPT with 552 5.3.4', async () => {
    const { dialog } = await SmtpDialog.open(port);
    await dialog.send('EHLO client.test');
    await dialog.send('MAIL FROM:<a@sender.test> SIZE=30000');
    const r = await dialog.send('RCPT TO:<x@small.example>');
    assert.match(r.lines[0] ?? '', /^552 5\.3\.4 /);
    await dialog.quit();
  });

  test('without SIZE=, the others are delivered and the sender gets a DSN 5.3.4 for that recipient', async () => {
    const before = sink.messages.length;
    const raw = makeMessage({
      from: 'a@sender.test',
      to: 'x@small.example, y@big.example',
      subject: 'too big for Small',
      body: big,
    });
    const r = await sendMail({
      port,
      from: 'a@sender.test',
      to: ['x@small.example', 'y@big.example'],
      raw,
    });
    assert.match(r.response, /^250 /);
    const msgs = await sink.waitForMessages(before + 2);
    const delivered = msgs.slice(before).find((m) => m.to.includes('y@big.example'));
    assert.ok(delivered, 'y@big.example got the message');
    const dsn = msgs.slice(before).find((m) => m.from === '' && m.to.includes('a@sender.test'));
    assert.ok(dsn, 'a DSN from <> to the sender');
    const text = dsn.raw.toString('latin1');
    assert.match(text, /Final-Recipient: rfc822; ?x@small\.example/i);
    assert.match(text, /Action: failed/);
    assert.match(text, /Status: 5\.3\.4/);
    assert.ok(
      !msgs.some((m) => m.to.includes('x@small.example')),
      'never delivered over the limit',
    );
  });

  test('without SIZE=, when no recipient is left the DATA reply is 552 5.3.4', async () => {
    const { dialog } = await SmtpDialog.open(port);
    await dialog.send('EHLO client.test');
    await dialog.send('MAIL FROM:<a@sender.test>');
    assert.equal((await dialog.send('RCPT TO:<x@small.example>')).code, 250);
    const r = await dialog.data(`Subject: only small\r\n\r\n${big}`);
    assert.match(r.lines[0] ?? '', /^552 5\.3\.4 /);
    await dialog.quit();
  });
});
