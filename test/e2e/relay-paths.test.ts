import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { hashPassword } from '@mailbus/ingress';
import type { SinkServer } from '@mailbus/testing';
import { makeTestCertificate, sendMail, SmtpDialog } from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';

/**
 * Each way a recipient may be accepted for relay, over real SMTP: an inbound
 * domain, a client IP in relay.allow, an authenticated client (AUTH only after
 * STARTTLS), a connector with allowRelay; and each way it is refused.
 */
describe('relay permission over SMTP', () => {
  let f: GatewayFixture<'sink', 'closed' | 'byIp'>;
  let sink: SinkServer;
  let closed: number;
  let byIp: number;
  const cert = makeTestCertificate('mx.relay.test');

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-users-'));
    const users = join(dir, 'users.passwd');
    writeFileSync(users, `alice:${await hashPassword('correct horse')}\n`);
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      ports: ['closed', 'byIp'],
      config: (p) => `
redis: { url: "${p.redis.url}" }
recipientPolicies:
  - { domain: inbound.test, mailboxHosts: ["[127.0.0.1]:${p.sinks.sink.port}"] }
virtualServers:
  - name: closed
    listen: 127.0.0.1:${p.ports.closed}
    fqdn: mx.relay.test
    relay: { allow: [], allowAuthenticated: true }
    auth: { usersFile: "${users}" }
    tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" }
  - name: byip
    listen: 127.0.0.1:${p.ports.byIp}
    fqdn: mx2.relay.test
    relay: { allow: ["127.0.0.1/32"], allowAuthenticated: false }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${p.sinks.sink.port}"], bridgeheads: [closed], addressSpaces: [{ domain: "*" }] }
  - { name: Partner, smartHosts: ["[127.0.0.1]:${p.sinks.sink.port}"], bridgeheads: [closed], addressSpaces: [{ domain: partner.test }], allowRelay: true }
`,
    });
    ({
      sinks: { sink },
      ports: { closed, byIp },
    } = f);
  });

  after(async () => {
    await f?.close();
    cert.cleanup();
  });

  async function rcpt(port: number, to: string): Promise<string> {
    const { dialog } = await SmtpDialog.open(port);
    await dialog.send('EHLO client.test');
    await dialog.send('MAIL FROM:<a@sender.test>');
    const r = await dialog.send(`RCPT TO:<${to}>`);
    await dialog.quit();
    return r.lines[0] ?? '';
  }

  test('an inbound domain is accepted from a client that may not relay', async () => {
    assert.match(await rcpt(closed, 'ceo@inbound.test'), /^250 /);
  });

  test('a foreign domain from a client that may not relay gets 550 5.7.1 Unable to relay', async () => {
    assert.equal(await rcpt(closed, 'x@foreign.test'), '550 5.7.1 Unable to relay');
  });

  test('a connector with allowRelay accepts its address space from anyone', async () => {
    assert.match(await rcpt(closed, 'bob@partner.test'), /^250 /);
  });

  test('a client in relay.allow may relay to any domain', async () => {
    assert.match(await rcpt(byIp, 'x@foreign.test'), /^250 /);
  });

  test('AUTH before STARTTLS is refused with 538 5.7.11', async () => {
    const { dialog } = await SmtpDialog.open(closed);
    const ehlo = await dialog.send('EHLO client.test');
    assert.ok(ehlo.lines.some((l) => /STARTTLS/.test(l)));
    const r = await dialog.send(
      `AUTH PLAIN ${Buffer.from('\0alice\0correct horse').toString('base64')}`,
    );
    assert.match(r.lines[0] ?? '', /^538 5\.7\.11 /);
    await dialog.quit();
  });

  test('after STARTTLS a wrong password gets 535 5.7.8 and the right one lets the client relay', async () => {
    const { dialog } = await SmtpDialog.open(closed);
    await dialog.send('EHLO client.test');
    assert.equal((await dialog.send('STARTTLS')).code, 220);
    const socket = tlsConnect({
      socket: dialog.socket,
      rejectUnauthorized: false,
      servername: 'mx.relay.test',
    });
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    const lines: string[] = [];
    let buf = '';
    const next = (): Promise<string> =>
      new Promise((resolve) => {
        const tryLine = () => {
          const i = buf.indexOf('\r\n');
          if (i >= 0) {
            const l = buf.slice(0, i);
            buf = buf.slice(i + 2);
            lines.push(l);
            if (/^\d{3} /.test(l)) return resolve(l);
            return tryLine();
          }
          socket.once('data', (d: Buffer) => {
            buf += d.toString('latin1');
            tryLine();
          });
        };
        tryLine();
      });
    const cmd = (l: string) => {
      socket.write(`${l}\r\n`);
      return next();
    };
    assert.match(await cmd('EHLO client.test'), /^250 /);
    assert.ok(lines.some((l) => /AUTH PLAIN LOGIN/.test(l)));
    assert.match(
      await cmd(`AUTH PLAIN ${Buffer.from('\0alice\0wrong').toString('base64')}`),
      /^535 5\.7\.8 /,
    );
    assert.match(
      await cmd(`AUTH PLAIN ${Buffer.from('\0alice\0correct horse').toString('base64')}`),
      /^235 /,
    );
    assert.match(await cmd('MAIL FROM:<alice@sender.test>'), /^250 /);
    assert.match(await cmd('RCPT TO:<x@foreign.test>'), /^250 /);
    socket.end();
  });

  test('an authenticated submission with nodemailer (STARTTLS + AUTH) is relayed to the smart host', async () => {
    const before = sink.messages.length;
    await sendMail({
      port: closed,
      from: 'alice@sender.test',
      to: ['far@foreign.test'],
      raw: 'Subject: authenticated\r\n\r\nhello\r\n',
      tls: true,
      auth: { user: 'alice', pass: 'correct horse' },
    });
    const msgs = await sink.waitForMessages(before + 1);
    assert.deepEqual(msgs[before]?.to, ['far@foreign.test']);
    assert.match(msgs[before]?.raw.toString() ?? '', /with ESMTPSA id/);
  });
});
