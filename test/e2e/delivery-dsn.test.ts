import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SinkServer } from '@mailbus/testing';
import { makeMessage, sendMail, SmtpDialog, waitFor, type ReceivedMessage } from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';
import type { Gateway } from '@mailbus/cli';
import { parseDsn, queuedId, queueOf } from './delivery-helpers.js';

describe('DSNs: partial failure, expiry, delay, and when none is sent', () => {
  let f: GatewayFixture<'remote' | 'senderSink', 'ingress' | 'closedPort'>;
  let remote: SinkServer;
  let senderSink: SinkServer;
  let gateway: Gateway;
  let ingress: number;

  before(async () => {
    f = await GatewayFixture.start({
      sinks: {
        remote: {
          onRcpt: (a) =>
            a.startsWith('bad')
              ? // smtp-server puts its own enhanced code (5.1.1 at RCPT) before the text.
                { code: 550, text: `<${a}>: Recipient address rejected: User unknown` }
              : undefined,
        },
        senderSink: {},
      },
      ports: ['ingress', 'closedPort'],
      config: (p) => `
organization: Test
redis: { url: "${p.redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${p.ports.ingress}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Remote
    smartHosts: ["[127.0.0.1]:${p.sinks.remote.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: example.net }]
  - name: Expiring
    smartHosts: ["[127.0.0.1]:${p.ports.closedPort}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: expire.example }]
    retry: { intervals: [1s], expireAfter: 3s, delayNotifyAfter: 2s }
    linkState: { failuresToMarkDown: 100 }
  - name: Slow
    smartHosts: ["[127.0.0.1]:${p.ports.closedPort}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: delay.example }]
    retry: { intervals: [1s], expireAfter: 1h, delayNotifyAfter: 1s }
    linkState: { failuresToMarkDown: 100 }
  - name: Senders
    smartHosts: ["[127.0.0.1]:${p.sinks.senderSink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: sender.test }]
`,
    });
    ({
      sinks: { remote, senderSink },
      ports: { ingress },
      gateway,
    } = f);
  });

  after(() => f?.close());

  /**
   * A job decides on its DSNs (and queues one with a 'dsn' tracking event) before it releases
   * the message's body: the body gone is the sign the bridgehead had its chance to send one.
   */
  const bodyReleased = (id: string) =>
    waitFor(async () => !(await f.queue.store.exists(id)), {
      timeoutMs: 10_000,
      what: `message ${id} to leave the queue`,
    });

  const dsnsFor = (subject: string, kind = ''): ReceivedMessage[] =>
    senderSink.messages.filter(
      (m) =>
        m.raw.includes(`Subject: ${subject}\r\n`) &&
        new RegExp(`^Subject: ${kind || '[A-Za-z]+'}: `, 'm').test(m.raw.toString('latin1')),
    );

  test('a recipient refused with 550 gets a failure DSN, checked field by field, and the other recipient gets the message once', async () => {
    const raw = makeMessage({
      from: 'alice@sender.test',
      to: 'good@example.net, bad@example.net',
      subject: 'partial',
    });
    const id = queuedId(
      (
        await sendMail({
          port: ingress,
          from: 'alice@sender.test',
          to: ['good@example.net', 'bad@example.net'],
          raw,
        })
      ).response,
    );
    await waitFor(() => dsnsFor('partial').length === 1, {
      timeoutMs: 15_000,
      what: 'the failure DSN',
    });
    const delivered = remote.messages.filter((m) => m.raw.includes('Subject: partial\r\n'));
    assert.equal(delivered.length, 1);
    assert.deepEqual(delivered[0]?.to, ['good@example.net']);

    const dsn = await parseDsn(dsnsFor('partial')[0] as ReceivedMessage);
    assert.equal(dsn.from, '', 'a DSN comes from the null sender');
    assert.deepEqual(dsn.to, ['alice@sender.test']);
    assert.equal(dsn.contentType, 'multipart/report');
    assert.equal(dsn.reportType, 'delivery-status');
    assert.equal(dsn.subject, 'Undeliverable: partial');
    assert.match(dsn.human, /bad@example\.net/);
    assert.equal(dsn.perMessage['reporting-mta'], 'dns; hub.mailbus.test');
    assert.ok(dsn.perMessage['arrival-date']);
    assert.equal(dsn.perRecipient.length, 1, 'only the failed recipient is listed');
    const r = dsn.perRecipient[0] ?? {};
    assert.equal(r['final-recipient'], 'rfc822; bad@example.net');
    assert.equal(r.action, 'failed');
    assert.equal(r.status, '5.1.1');
    assert.equal(
      r['diagnostic-code'],
      'smtp; 550 5.1.1 <bad@example.net>: Recipient address rejected: User unknown',
    );
    assert.equal(r['remote-mta'], 'dns; 127.0.0.1');
    assert.ok(r['last-attempt-date']);
    assert.match(
      dsn.original,
      /Subject: partial/,
      'the original message is returned (RET default FULL)',
    );

    const events = await queueOf(gateway).tracking.history(id);
    assert.ok(events.some((e) => e.type === 'dsn'));
  });

  test('a message that cannot be delivered before expireAfter gets a 5.4.7 DSN with the last real error', async () => {
    const raw = makeMessage({
      from: 'alice@sender.test',
      to: 'x@expire.example',
      subject: 'expiring',
    });
    const id = queuedId(
      (await sendMail({ port: ingress, from: 'alice@sender.test', to: ['x@expire.example'], raw }))
        .response,
    );
    await waitFor(() => dsnsFor('expiring', 'Undeliverable').length === 1, {
      timeoutMs: 15_000,
      what: 'the expiry DSN',
    });
    const dsn = await parseDsn(dsnsFor('expiring', 'Undeliverable')[0] as ReceivedMessage);
    assert.equal(dsn.subject, 'Undeliverable: expiring');
    const r = dsn.perRecipient[0] ?? {};
    assert.equal(r['final-recipient'], 'rfc822; x@expire.example');
    assert.equal(r.action, 'failed');
    assert.equal(r.status, '5.4.7');
    // No server replied: the refusal is described as such, without the internal address.
    assert.equal(r['diagnostic-code'], 'X-mailbus; the connection to the next server was refused');
    assert.equal(r['remote-mta'], undefined);
    // The expiring job releases the body after its DSN is queued: once it is gone, no job is
    // left that could make another attempt or send another DSN.
    const q = f.queue;
    await waitFor(async () => !(await q.store.exists(id)), {
      timeoutMs: 10_000,
      what: 'the expired message to leave the queue',
    });
    const history = await q.tracking.history(id);
    const expired = history.findIndex((e) => e.type === 'expired');
    assert.ok(expired >= 0, 'the expiry is tracked');
    assert.ok(
      !history.slice(expired).some((e) => e.type === 'attempt'),
      'no more attempts after the expiry',
    );
    assert.equal(
      history.filter((e) => e.type === 'dsn' && e.detail?.startsWith('failed DSN')).length,
      1,
      'one expiry DSN',
    );
    assert.equal(dsnsFor('expiring', 'Undeliverable').length, 1);
  });

  test('a message still undelivered after delayNotifyAfter gets exactly one delay DSN (Action: delayed)', async () => {
    const raw = makeMessage({
      from: 'alice@sender.test',
      to: 'y@delay.example',
      subject: 'delayed',
    });
    const id = queuedId(
      (await sendMail({ port: ingress, from: 'alice@sender.test', to: ['y@delay.example'], raw }))
        .response,
    );
    await waitFor(() => dsnsFor('delayed').length === 1, {
      timeoutMs: 15_000,
      what: 'the delay DSN',
    });
    const dsn = await parseDsn(dsnsFor('delayed')[0] as ReceivedMessage);
    assert.equal(dsn.subject, 'Delayed: delayed');
    const r = dsn.perRecipient[0] ?? {};
    assert.equal(r['final-recipient'], 'rfc822; y@delay.example');
    assert.equal(r.action, 'delayed');
    assert.equal(r.status, '4.4.1');
    assert.equal(r['diagnostic-code'], 'X-mailbus; the connection to the next server was refused');
    assert.ok(r['will-retry-until'], 'says until when it keeps trying');
    // Three more retry rounds (1 s each) after the delay DSN, each a chance to send another:
    // still one delay DSN, tracked and at the sender.
    const q = f.queue;
    const roundsAfterDsn = async () => {
      const h = await q.tracking.history(id);
      const dsn = h.findIndex((e) => e.type === 'dsn');
      return dsn < 0 ? 0 : h.slice(dsn).filter((e) => e.type === 'deferred').length;
    };
    await waitFor(async () => (await roundsAfterDsn()) >= 3, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'three retry rounds after the delay DSN',
    });
    const dsnEvents = (await q.tracking.history(id)).filter(
      (e) => e.type === 'dsn' && e.detail?.startsWith('delayed DSN'),
    );
    assert.equal(dsnEvents.length, 1, 'one delay DSN tracked');
    assert.equal(dsnsFor('delayed').length, 1);
  });

  test('a message from the null sender never causes a DSN', async () => {
    const raw = makeMessage({
      from: 'mailer-daemon@sender.test',
      to: 'bad@example.net',
      subject: 'null-sender',
    });
    const id = queuedId(
      (await sendMail({ port: ingress, from: '', to: ['bad@example.net'], raw })).response,
    );
    const q = queueOf(gateway);
    await waitFor(async () => (await q.tracking.history(id)).some((e) => e.type === 'failed'), {
      timeoutMs: 10_000,
      what: 'the 550 to be recorded',
    });
    await bodyReleased(id);
    assert.ok(!(await q.tracking.history(id)).some((e) => e.type === 'dsn'));
    assert.equal(dsnsFor('null-sender').length, 0);
    assert.ok(!senderSink.messages.some((m) => m.raw.includes('null-sender')));
  });

  test('RCPT NOTIFY=NEVER is honoured: no DSN for that recipient', async () => {
    const { dialog } = await SmtpDialog.open(ingress);
    const ehlo = await dialog.send('EHLO client.test');
    assert.ok(
      ehlo.lines.some((l) => /\bDSN$/.test(l)),
      'DSN is advertised',
    );
    assert.equal((await dialog.send('MAIL FROM:<alice@sender.test>')).code, 250);
    assert.equal((await dialog.send('RCPT TO:<bad@example.net> NOTIFY=NEVER')).code, 250);
    const r = await dialog.data(
      makeMessage({ from: 'alice@sender.test', to: 'bad@example.net', subject: 'notify-never' }),
    );
    assert.equal(r.code, 250);
    await dialog.quit();
    const id = queuedId(r.lines[0] ?? '');
    const q = queueOf(gateway);
    await waitFor(async () => (await q.tracking.history(id)).some((e) => e.type === 'failed'), {
      timeoutMs: 10_000,
      what: 'the 550 to be recorded',
    });
    await bodyReleased(id);
    assert.ok(!(await q.tracking.history(id)).some((e) => e.type === 'dsn'));
    assert.equal(dsnsFor('notify-never').length, 0);
  });
});
