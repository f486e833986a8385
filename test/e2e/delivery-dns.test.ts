import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DnsServer,
  freePort,
  makeMessage,
  sendMail,
  SinkServer,
  waitFor,
  type ReceivedMessage,
} from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';
import { parseDsn } from './delivery-helpers.js';

describe('DNS routing against a real DNS server on loopback', () => {
  let f: GatewayFixture<never, never>;
  let dns: DnsServer;
  let mx1: SinkServer;
  let mx2: SinkServer;
  let implicit: SinkServer;
  let senderSink: SinkServer;
  let ingress: number;

  before(async () => {
    // MX records carry no port: every MX host listens on the connector's port, each on its own loopback address.
    const port = await freePort('127.0.0.2');
    mx1 = await SinkServer.start({ host: '127.0.0.2', port });
    mx2 = await SinkServer.start({ host: '127.0.0.3', port });
    implicit = await SinkServer.start({ host: '127.0.0.5', port });
    senderSink = await SinkServer.start();
    dns = await DnsServer.start({
      'pref.test': {
        mx: [
          { preference: 20, exchange: 'mx2.pref.test' },
          { preference: 10, exchange: 'mx1.pref.test' },
        ],
      },
      'mx1.pref.test': { a: ['127.0.0.2'] },
      'mx2.pref.test': { a: ['127.0.0.3'] },
      'fallback.test': {
        mx: [
          { preference: 10, exchange: 'dead.fallback.test' },
          { preference: 20, exchange: 'mx2.pref.test' },
        ],
      },
      'dead.fallback.test': { a: ['127.0.0.4'] },
      'implicit.test': { a: ['127.0.0.5'] },
      'nullmx.test': { mx: [{ preference: 0, exchange: '.' }] },
      'loop.test': { mx: [{ preference: 10, exchange: 'hub.mailbus.test' }] },
      'hub.mailbus.test': { a: ['127.0.0.1'] },
    });
    ingress = await freePort();
    f = await GatewayFixture.start({
      config: (p) => `
organization: Test
redis: { url: "${p.redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${ingress}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
    outbound: { port: ${port}, dnsServers: ["${dns.address}"] }
connectors:
  - name: Internet
    dns: true
    bridgeheads: [hub]
    addressSpaces: [{ domain: "*" }]
    retry: { intervals: [1s] }
  - name: Senders
    smartHosts: ["[127.0.0.1]:${senderSink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: sender.test }]
`,
    });
  });

  after(async () => {
    await f?.close();
    await Promise.all([mx1, mx2, implicit, senderSink].map((s) => s?.close()));
    await dns?.close();
  });

  async function send(to: string, subject: string): Promise<void> {
    await sendMail({
      port: ingress,
      from: 'alice@sender.test',
      to: [to],
      raw: makeMessage({ from: 'alice@sender.test', to, subject }),
    });
  }
  const has = (sink: SinkServer, subject: string) =>
    sink.messages.some((m) => m.raw.includes(`Subject: ${subject}\r\n`));
  async function dsnFor(subject: string) {
    const m = await waitFor(
      () => senderSink.messages.find((x) => x.raw.includes(`Subject: ${subject}\r\n`)),
      { timeoutMs: 15_000, what: `a DSN for ${subject}` },
    );
    return parseDsn(m as ReceivedMessage);
  }

  test('delivers to the MX host with the lowest preference value', async () => {
    await send('a@pref.test', 'by-preference');
    await waitFor(() => has(mx1, 'by-preference'), {
      timeoutMs: 15_000,
      what: 'mail at the preference-10 MX',
    });
    assert.ok(!has(mx2, 'by-preference'));
    assert.ok(dns.queries.includes('MX pref.test'), 'the virtual server’s DNS server was asked');
  });

  test('moves to the next MX when the most preferred one refuses connections', async () => {
    await send('b@fallback.test', 'next-mx');
    await waitFor(() => has(mx2, 'next-mx'), {
      timeoutMs: 15_000,
      what: 'mail at the preference-20 MX',
    });
  });

  test('delivers to the domain’s own address (implicit MX) when it has no MX record', async () => {
    await send('c@implicit.test', 'implicit-mx');
    await waitFor(() => has(implicit, 'implicit-mx'), {
      timeoutMs: 15_000,
      what: 'mail at the implicit MX',
    });
  });

  test('a null MX returns the message with DSN 5.1.10', async () => {
    await send('d@nullmx.test', 'null-mx');
    const dsn = await dsnFor('null-mx');
    assert.equal(dsn.perRecipient[0]?.['final-recipient'], 'rfc822; d@nullmx.test');
    assert.equal(dsn.perRecipient[0]?.action, 'failed');
    assert.equal(dsn.perRecipient[0]?.status, '5.1.10');
  });

  test('a domain that does not exist (NXDOMAIN) returns the message with DSN 5.1.2', async () => {
    await send('e@no-such-domain.test', 'nxdomain');
    const dsn = await dsnFor('nxdomain');
    assert.equal(dsn.perRecipient[0]?.['final-recipient'], 'rfc822; e@no-such-domain.test');
    assert.equal(dsn.perRecipient[0]?.status, '5.1.2');
  });

  test('an MX that is this organisation’s own ingress returns the message with loop DSN 5.4.6', async () => {
    await send('f@loop.test', 'mx-loop');
    const dsn = await dsnFor('mx-loop');
    assert.equal(dsn.perRecipient[0]?.status, '5.4.6');
    assert.match(dsn.perRecipient[0]?.['diagnostic-code'] ?? '', /loop/i);
  });
});
