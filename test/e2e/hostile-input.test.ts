import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeMessage,
  makeTestCertificate,
  SmtpDialog,
  waitFor,
  type RedisServer,
  type SinkServer,
  type WireReply,
} from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { hashPassword } from '@mailbus/ingress';
import { GatewayFixture, type FixtureParts } from './support/gateway-fixture.js';
import { startGateway } from './support/start-gateway.js';
import { sample } from './support/metric-sample.js';

/** SmtpDialog over an already connected socket (a TLS socket after STARTTLS). */
const DialogOver = SmtpDialog as unknown as new (socket: Socket) => SmtpDialog;

/** First line of a reply. */
const line = (r: WireReply): string => r.lines[r.lines.length - 1] ?? '';

async function session(port: number): Promise<SmtpDialog> {
  const { dialog, greeting } = await SmtpDialog.open(port);
  assert.equal(greeting.code, 220);
  assert.equal((await dialog.send('EHLO client.test')).code, 250);
  return dialog;
}

/** The session still works: NOOP answers 250. */
async function assertAlive(dialog: SmtpDialog): Promise<void> {
  assert.equal(line(await dialog.send('NOOP')), '250 2.0.0 OK');
}

/** Upgrades a dialog with STARTTLS; `inject` is written in the same packet as STARTTLS. */
async function startTls(port: number, inject = ''): Promise<SmtpDialog> {
  const { dialog } = await SmtpDialog.open(port);
  await dialog.send('EHLO client.test');
  dialog.write(`STARTTLS\r\n${inject}`);
  assert.match(line(await dialog.read()), /^220 /);
  const secure = tlsConnect({ socket: dialog.socket, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => resolve());
    secure.once('error', reject);
  });
  return new DialogOver(secure);
}

/** Opens a raw connection from a given loopback source address and returns the first reply line. */
function greetFrom(port: number, localAddress: string): Promise<{ socket: Socket; first: string }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1', localAddress });
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) resolve({ socket, first: buf.slice(0, nl) });
    });
  });
}

describe('hostile input: every malformed or abusive client gets the precise reply and the server survives', () => {
  type Ports = 'strict' | 'limited' | 'idle' | 'secure' | 'secure2';
  let f: GatewayFixture<'sink', Ports>;
  let redis: RedisServer;
  let sink: SinkServer;
  let gateway: Gateway;
  let node2: Gateway;
  let cert: ReturnType<typeof makeTestCertificate>;
  let dir: string;
  let strict: number;
  let limited: number;
  let idle: number;
  let secure: number;
  let secure2: number;

  before(async () => {
    cert = makeTestCertificate('mx.test');
    dir = mkdtempSync(join(tmpdir(), 'mailbus-hostile-'));
    writeFileSync(join(dir, 'users'), `alice:${await hashPassword('correct horse')}\n`);
    const base = ({ redis, sinks }: FixtureParts<'sink', Ports>, extra: string) => `
organization: Test
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
${extra}
connectors:
  - name: Alpha
    smartHosts: ["[127.0.0.1]:${sinks.sink.port}"]
    bridgeheads: [strict]
    addressSpaces: [{ domain: a.example }]
    allowRelay: true
`;
    const secureVs = (port: number) => `
  - name: secure
    listen: 127.0.0.1:${port}
    fqdn: mx.secure.test
    relay: { allow: [] }
    tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" }
    auth: { usersFile: "${join(dir, 'users')}" }`;
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      ports: ['strict', 'limited', 'idle', 'secure', 'secure2'],
      config: (p) =>
        base(
          p,
          `
  - name: strict
    listen: 127.0.0.1:${p.ports.strict}
    fqdn: mx.strict.test
    maxRecipientsPerMessage: 3
    maxHeaderSizeKB: 2
    relay: { allow: [] }
  - name: limited
    listen: 127.0.0.1:${p.ports.limited}
    fqdn: mx.limited.test
    relay: { allow: [] }
    limits: { maxConnections: 3, maxConnectionsPerIp: 2 }
  - name: idle
    listen: 127.0.0.1:${p.ports.idle}
    fqdn: mx.idle.test
    relay: { allow: [] }
    limits: { socketTimeout: 1s }
${secureVs(p.ports.secure)}`,
        ),
    });
    ({
      redis,
      sinks: { sink },
      ports: { strict, limited, idle, secure, secure2 },
      gateway,
    } = f);
    // A second ingress node on the same Redis: AUTH throttling is shared.
    node2 = await startGateway(
      base(f, secureVs(secure2)).replace('bridgeheads: [strict]', 'bridgeheads: [secure]'),
      ['ingress'],
    );
  });

  after(async () => {
    await node2?.close();
    await f?.close();
    cert?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: Array<{ name: string; setup: string[]; send: string; reply: RegExp }> = [
    {
      name: 'RCPT before HELO gets 503 5.5.1',
      setup: [],
      send: 'RCPT TO:<b@a.example>',
      reply: /^503 5\.5\.1 /,
    },
    {
      name: 'RCPT before MAIL gets 503 5.5.1',
      setup: ['EHLO client.test'],
      send: 'RCPT TO:<b@a.example>',
      reply: /^503 5\.5\.1 /,
    },
    {
      name: 'DATA before RCPT gets 503 5.5.1',
      setup: ['EHLO client.test', 'MAIL FROM:<a@sender.test>'],
      send: 'DATA',
      reply: /^503 5\.5\.1 /,
    },
    {
      name: 'a nested MAIL gets 503 5.5.1',
      setup: ['EHLO client.test', 'MAIL FROM:<a@sender.test>'],
      send: 'MAIL FROM:<a@sender.test>',
      reply: /^503 5\.5\.1 /,
    },
    {
      name: 'an unknown command gets 500 5.5.2',
      setup: ['EHLO client.test'],
      send: 'XYZZY plugh',
      reply: /^500 5\.5\.2 /,
    },
    { name: 'EHLO without a name gets 501 5.5.4', setup: [], send: 'EHLO', reply: /^501 5\.5\.4 / },
    {
      name: 'MAIL FROM without angle brackets gets 501 5.5.4',
      setup: ['EHLO client.test'],
      send: 'MAIL FROM:a@sender.test',
      reply: /^501 5\.5\.4 /,
    },
    {
      name: 'a non-numeric SIZE gets 501 5.5.4',
      setup: ['EHLO client.test'],
      send: 'MAIL FROM:<a@sender.test> SIZE=lots',
      reply: /^501 5\.5\.4 /,
    },
    {
      name: 'an unknown MAIL parameter gets 555 5.5.4',
      setup: ['EHLO client.test'],
      send: 'MAIL FROM:<a@sender.test> XFOO=bar',
      reply: /^555 5\.5\.4 Unsupported parameter XFOO$/,
    },
    {
      name: 'an unknown RCPT parameter gets 555 5.5.4',
      setup: ['EHLO client.test', 'MAIL FROM:<a@sender.test>'],
      send: 'RCPT TO:<b@a.example> XBAR=1',
      reply: /^555 5\.5\.4 Unsupported parameter XBAR$/,
    },
    {
      name: 'a command line over 512 octets gets 500 5.5.6',
      setup: ['EHLO client.test'],
      send: `NOOP ${'x'.repeat(600)}`,
      reply: /^500 5\.5\.6 /,
    },
    {
      name: 'a MAIL line over 512 octets gets 500 5.5.6',
      setup: ['EHLO client.test'],
      send: `MAIL FROM:<${'x'.repeat(520)}@sender.test>`,
      reply: /^500 5\.5\.6 /,
    },
    {
      name: 'a NUL octet in a command gets 500 5.5.2',
      setup: ['EHLO client.test'],
      send: 'NOOP\u0000injected',
      reply: /^500 5\.5\.2 /,
    },
    {
      name: 'a UTF-8 sender without SMTPUTF8 gets 553 5.6.7',
      setup: ['EHLO client.test'],
      send: 'MAIL FROM:<jürgen@sender.test>',
      reply: /^553 5\.6\.7 /,
    },
    {
      name: 'an 8-bit recipient without SMTPUTF8 gets 553 5.6.7',
      setup: ['EHLO client.test', 'MAIL FROM:<a@sender.test>'],
      send: 'RCPT TO:<\u00e9t\u00e9@a.example>',
      reply: /^553 5\.6\.7 /,
    },
  ];
  for (const c of cases) {
    test(`${c.name}, and the session then still answers`, async () => {
      const { dialog } = await SmtpDialog.open(strict);
      for (const s of c.setup) await dialog.send(s);
      assert.match(line(await dialog.send(c.send)), c.reply);
      await assertAlive(dialog);
      await dialog.quit();
    });
  }

  const probes = [
    'user%other.example@a.example',
    '"user@other.example"@a.example',
    '@a.example:user@other.example',
    'other.example!user@a.example',
    'user@other.example@a.example',
    'user@[127.0.0.1]',
    'user@[192.0.2.1]',
    'user@[IPv6:::1]',
  ];
  for (const p of probes) {
    test(`the open-relay probe <${p}> gets 550 5.7.1 on a virtual server that does not allow relay`, async () => {
      const dialog = await session(strict);
      await dialog.send('MAIL FROM:<a@sender.test>');
      assert.equal(line(await dialog.send(`RCPT TO:<${p}>`)), '550 5.7.1 Unable to relay');
      assert.match(line(await dialog.send('RSET')), /^250 /);
      await dialog.quit();
    });
  }

  const dataCases: Array<{ name: string; raw: string; reply: RegExp }> = [
    {
      name: 'a text line over 1000 octets gets 500 5.5.6',
      raw: `Subject: long\r\n\r\n${'y'.repeat(1200)}\r\n`,
      reply: /^500 5\.5\.6 /,
    },
    {
      name: 'a header section over maxHeaderSizeKB gets 552 5.3.4',
      raw: `Subject: big\r\n${`X-Filler: ${'h'.repeat(900)}\r\n`.repeat(4)}\r\nbody\r\n`,
      reply: /^552 5\.3\.4 /,
    },
    {
      name: 'a NUL octet in the message gets 554 5.6.0',
      raw: 'Subject: nul\r\n\r\nbo\u0000dy\r\n',
      reply: /^554 5\.6\.0 /,
    },
    {
      name: 'a bare LF in the message gets 550 5.5.2',
      raw: 'Subject: lf\r\n\r\nline\nline\r\n',
      reply: /^550 5\.5\.2 /,
    },
    {
      name: 'a bare CR in the message gets 550 5.5.2',
      raw: 'Subject: cr\r\n\r\nline\rline\r\n',
      reply: /^550 5\.5\.2 /,
    },
  ];
  for (const c of dataCases) {
    test(`${c.name}, nothing is queued and the session goes on`, async () => {
      const before = sink.messages.length;
      const dialog = await session(strict);
      await dialog.send('MAIL FROM:<a@sender.test>');
      assert.equal((await dialog.send('RCPT TO:<b@a.example>')).code, 250);
      assert.match(line(await dialog.data(c.raw)), c.reply);
      await assertAlive(dialog);
      await dialog.send('MAIL FROM:<a@sender.test>');
      await dialog.send('RCPT TO:<b@a.example>');
      assert.match(
        line(
          await dialog.data(
            makeMessage({ from: 'a@sender.test', to: 'b@a.example', subject: c.name }),
          ),
        ),
        /^250 2\.0\.0 /,
      );
      await dialog.quit();
      await sink.waitForMessages(before + 1);
      // Every queued job has had its delivery: the refused message, had it been queued, too.
      await f.drained();
      assert.equal(sink.messages.length, before + 1, 'only the valid message was delivered');
    });
  }

  test('one recipient more than maxRecipientsPerMessage gets 452 4.5.3', async () => {
    const dialog = await session(strict);
    await dialog.send('MAIL FROM:<a@sender.test>');
    for (const n of [1, 2, 3])
      assert.equal((await dialog.send(`RCPT TO:<r${n}@a.example>`)).code, 250);
    assert.match(line(await dialog.send('RCPT TO:<r4@a.example>')), /^452 4\.5\.3 /);
    await assertAlive(dialog);
    await dialog.quit();
  });

  test('a third connection from one IP gets 421 4.7.0, a fourth in total too; after they close a new one is served', async () => {
    const a = await greetFrom(limited, '127.0.0.1');
    const b = await greetFrom(limited, '127.0.0.1');
    assert.match(a.first, /^220 /);
    assert.match(b.first, /^220 /);
    const c = await greetFrom(limited, '127.0.0.1');
    assert.match(c.first, /^421 4\.7\.0 /);
    const d = await greetFrom(limited, '127.0.0.2');
    assert.match(d.first, /^220 /);
    const e = await greetFrom(limited, '127.0.0.3');
    assert.match(e.first, /^421 4\.7\.0 /);
    for (const s of [a, b, c, d, e]) s.socket.destroy();
    // The server has seen every one of them close: no session is counted open.
    await waitFor(
      async () =>
        sample(await gateway.metrics.render(), 'mailbus_smtp_sessions_open', {
          virtual_server: 'limited',
        }) === 0,
      { timeoutMs: 5000, intervalMs: 25, what: 'the limited server to see the sessions close' },
    );
    const dialog = await session(limited);
    await dialog.quit();
  });

  test('an idle session is cut after socketTimeout with 421 4.4.2, and the server takes a new one', async () => {
    const dialog = await session(idle);
    const started = Date.now();
    const r = await dialog.read(5000);
    assert.match(line(r), /^421 4\.4\.2 /);
    assert.ok(Date.now() - started < 4000);
    const again = await session(idle);
    await again.quit();
  });

  test('AUTH before STARTTLS gets 538 5.7.11', async () => {
    const dialog = await session(secure);
    assert.match(line(await dialog.send('AUTH PLAIN AGFsaWNlAHdyb25n')), /^538 5\.7\.11 /);
    await assertAlive(dialog);
    await dialog.quit();
  });

  test('commands pipelined after STARTTLS are discarded, not run inside the TLS session', async () => {
    const dialog = await startTls(
      secure,
      'MAIL FROM:<injected@evil.test>\r\nRCPT TO:<victim@a.example>\r\n',
    );
    const ehlo = await dialog.send('EHLO client.test');
    assert.equal(ehlo.code, 250);
    assert.match(
      line(await dialog.send('RCPT TO:<b@a.example>')),
      /^503 5\.5\.1 /,
      'the injected MAIL was not executed',
    );
    await dialog.quit();
  });

  test('wrong passwords get 535 5.7.8, then 454 4.7.0 from every ingress node for that IP, and another IP is not throttled', async () => {
    const bad = Buffer.from('\0alice\0wrong').toString('base64');
    for (let i = 0; i < 5; i++) {
      const d = await startTls(secure);
      await d.send('EHLO client.test');
      assert.match(line(await d.send(`AUTH PLAIN ${bad}`)), /^535 5\.7\.8 /);
      await d.quit();
    }
    const good = Buffer.from('\0alice\0correct horse').toString('base64');
    for (const port of [secure, secure2]) {
      const d = await startTls(port);
      await d.send('EHLO client.test');
      assert.match(
        line(await d.send(`AUTH PLAIN ${good}`)),
        /^454 4\.7\.0 /,
        `node on ${port} throttles`,
      );
      await assertAlive(d);
      await d.quit();
    }
    // 127.0.0.2 has its own counter.
    const r = redis.client();
    try {
      assert.equal(await r.get('mailbus:authfail:{127.0.0.1}'), '5');
      assert.equal(await r.exists('mailbus:authfail:{127.0.0.2}'), 0);
      assert.ok((await r.pttl('mailbus:authfail:{127.0.0.1}')) > 0, 'the counter expires');
      await r.del('mailbus:authfail:{127.0.0.1}');
    } finally {
      r.disconnect();
    }
    const d = await startTls(secure);
    await d.send('EHLO client.test');
    assert.match(line(await d.send(`AUTH PLAIN ${good}`)), /^235 /);
    await d.quit();
  });
});
