import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import {
  freePort,
  makeMessage,
  makeTestCertificate,
  RedisServer,
  sendMail,
  SinkServer,
  sleep,
  waitFor,
} from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { hashPassword } from '@mailbus/ingress';
import { jobId } from '@mailbus/queue';
import { queuedId, queueOf, startGatewayWithEnv } from './delivery-helpers.js';

/**
 * A collector as RFC 2645 has it, scripted: implicit TLS, EHLO, AUTH PLAIN,
 * ATRN or TURN; on 250 it hands the same socket to an SMTP server (a sink),
 * which sends its 220 and receives the held mail from mailbus, now the client.
 */
class Collector {
  private buffer = '';
  private waiting: Array<(line: string) => void> = [];
  private constructor(readonly socket: TLSSocket) {
    socket.on('data', this.onData);
  }

  static async open(port: number): Promise<{ c: Collector; greeting: string }> {
    const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const c = new Collector(socket);
    return { c, greeting: await c.reply() };
  }

  private readonly onData = (d: Buffer) => {
    this.buffer += d.toString('latin1');
    for (let nl = this.buffer.indexOf('\r\n'); nl >= 0; nl = this.buffer.indexOf('\r\n')) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 2);
      this.lines.push(line);
    }
    const w = this.waiting.shift();
    if (w && this.lines.length > 0) w('');
  };
  private readonly lines: string[] = [];

  /** The next complete reply, all lines joined with \n. */
  async reply(): Promise<string> {
    const out: string[] = [];
    for (;;) {
      while (this.lines.length === 0)
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no reply (${out.join('|')})`)), 10_000);
          this.waiting.push(() => (clearTimeout(t), resolve()));
        });
      const line = this.lines.shift() as string;
      out.push(line);
      if (/^\d{3}(?: |$)/.test(line)) return out.join('\n');
    }
  }

  async send(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async login(user: string, pass: string): Promise<string> {
    return this.send(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`);
  }

  /** After a 250 to ATRN/TURN: the sink serves this socket; resolves when the session ended. */
  async turnaround(sink: SinkServer): Promise<void> {
    this.socket.removeListener('data', this.onData);
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    sink.serve(this.socket);
    await closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('authenticated on-demand relay (ATRN, RFC 2645) and TURN for held mail', () => {
  let redis: RedisServer;
  let gateway: Gateway;
  let internet: SinkServer;
  let odmr: number;
  let hub: number;
  const cert = makeTestCertificate('hub.mailbus.test');

  before(async () => {
    redis = await RedisServer.start();
    internet = await SinkServer.start();
    hub = await freePort();
    odmr = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-atrn-'));
    writeFileSync(
      join(dir, 'users'),
      `branch:${await hashPassword('branch-pw')}\nalice:${await hashPassword('alice-pw')}\n`,
    );
    gateway = await startGatewayWithEnv(`
organization: Test
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${hub}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
  - name: odmr
    listen: 127.0.0.1:${odmr}
    fqdn: odmr.mailbus.test
    auth: { usersFile: ${join(dir, 'users')} }
    tls: { cert: ${cert.certFile}, key: ${cert.keyFile}, implicit: true }
connectors:
  - name: Internet
    smartHosts: ["[127.0.0.1]:${internet.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: "*" }]
  - name: Branch
    smartHosts: ["[127.0.0.1]:9"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: branch.example }, { domain: annex.example }]
    delivery: { remoteTriggered: true, triggerAccounts: [branch] }
`);
  });

  after(async () => {
    await gateway?.close();
    await internet?.close();
    await redis?.close();
    cert.cleanup();
  });

  async function send(to: string[], subject: string): Promise<string> {
    const r = await sendMail({
      port: hub,
      from: 'alice@sender.test',
      to,
      raw: makeMessage({ from: 'alice@sender.test', to: to[0] ?? '', subject }),
    });
    return queuedId(r.response);
  }
  const state = async (id: string) =>
    (
      await queueOf(gateway)
        .queues.queue('Branch')
        .getJob(jobId(id, 0, 0))
    )?.getState();
  const history = (id: string) => queueOf(gateway).tracking.history(id);

  test('EHLO lists ATRN over TLS before AUTH, and after AUTH only for a trigger account', async () => {
    const { c } = await Collector.open(odmr);
    const ehlo = await c.send('EHLO collector.test');
    assert.match(ehlo, /250[ -]ATRN/);
    assert.match(ehlo, /250[ -]AUTH PLAIN LOGIN\n/, 'no CRAM-MD5 without a CRAM-MD5 secret');
    assert.match(await c.login('alice', 'alice-pw'), /^235 /);
    assert.doesNotMatch(await c.send('EHLO collector.test'), /ATRN/);
    c.close();
    const b = (await Collector.open(odmr)).c;
    await b.send('EHLO collector.test');
    assert.match(await b.login('branch', 'branch-pw'), /^235 /);
    assert.match(await b.send('EHLO collector.test'), /250[ -]ATRN/);
    b.close();
  });

  test('ATRN before AUTH gets 530 5.7.0; an account not listed gets 450 4.7.1', async () => {
    const { c } = await Collector.open(odmr);
    await c.send('EHLO collector.test');
    assert.match(await c.send('ATRN branch.example'), /^530 5\.7\.0 Authentication required$/);
    await c.login('alice', 'alice-pw');
    assert.match(
      await c.send('ATRN branch.example'),
      /^450 4\.7\.1 ATRN request refused: alice may not collect mail for branch\.example$/,
    );
    assert.match(await c.send('TURN'), /^450 4\.7\.1 /);
    c.close();
  });

  test('ATRN for a domain the account may not collect gets 450; with nothing held, 453 4.3.0', async () => {
    const { c } = await Collector.open(odmr);
    await c.send('EHLO collector.test');
    await c.login('branch', 'branch-pw');
    assert.match(await c.send('ATRN example.com'), /^450 4\.7\.1 /);
    assert.match(await c.send('ATRN branch.example'), /^453 4\.3\.0 You have no mail$/);
    assert.match(await c.send('ATRN not a domain'), /^501 5\.5\.4 /);
    c.close();
  });

  const ids: string[] = [];

  test('ATRN <domain>: 250, roles reverse on the connection, the held mail for that domain is delivered there; what is refused transiently stays held, a 5xx gets a DSN', async () => {
    ids.push(
      await send(['a@branch.example'], 'held-1'),
      await send(['b@branch.example', 'later@branch.example', 'gone@branch.example'], 'held-2'),
      await send(['c@annex.example'], 'held-annex'),
    );
    for (const id of ids) assert.equal(await state(id), 'delayed');
    const sink = await SinkServer.start({
      onRcpt: (a) =>
        a.startsWith('later@')
          ? { code: 450, text: '4.2.1 Mailbox busy, try later' }
          : a.startsWith('gone@')
            ? { code: 550, text: '5.1.1 No such user' }
            : undefined,
    });
    const { c } = await Collector.open(odmr);
    await c.send('EHLO collector.test');
    await c.login('branch', 'branch-pw');
    const r = await c.send('ATRN branch.example');
    assert.match(r, /^250 2\.0\.0 OK, turnaround now: 2 held messages follow$/);
    await c.turnaround(sink);
    assert.deepEqual(sink.messages.map((m) => m.to).sort(), [
      ['a@branch.example'],
      ['b@branch.example'],
    ]);
    assert.equal(sink.messages[0]?.clientHostname, 'odmr.mailbus.test');
    assert.ok(sink.messages.some((m) => m.raw.includes('Subject: held-2\r\n')));
    // Delivered: the job is gone. Partly delivered: only the transient recipient is left, held.
    assert.equal(await state(ids[0] ?? ''), undefined);
    const left = await queueOf(gateway)
      .queues.queue('Branch')
      .getJob(jobId(ids[1] ?? '', 0, 0));
    assert.equal(await left?.getState(), 'delayed');
    assert.deepEqual(
      left?.data.recipients.map((x) => x.address),
      ['later@branch.example'],
    );
    assert.equal(await state(ids[2] ?? ''), 'delayed', 'annex.example was not asked for');
    // The 5xx recipient: a DSN to the sender, through the Internet connector.
    await waitFor(() => internet.messages.some((m) => m.to.includes('alice@sender.test')), {
      timeoutMs: 10_000,
      what: 'the DSN for gone@branch.example',
    });
    const dsn = internet.messages.find((m) => m.to.includes('alice@sender.test'));
    assert.match(dsn?.raw.toString() ?? '', /Final-Recipient: rfc822; ?gone@branch\.example/i);
    // Tracked: delivered with the collector as host, and the deferral that keeps it held.
    const events = await history(ids[1] ?? '');
    const delivered = events.find((e) => e.type === 'delivered');
    assert.deepEqual(delivered?.recipients, ['b@branch.example']);
    assert.equal(delivered?.connector, 'Branch');
    assert.match(delivered?.detail ?? '', /collected by branch/);
    assert.ok(events.some((e) => e.type === 'deferred' && /stays held/.test(e.detail ?? '')));
    assert.ok(
      events.some((e) => e.type === 'failed' && e.recipients?.[0] === 'gone@branch.example'),
    );
    // The request and the reversal, under the SMTP session id the message events name.
    const session = /\((\S+)\)/.exec(delivered?.detail ?? '')?.[1] ?? '';
    const requests = (await history(session)).map((e) => `${e.type} ${e.detail ?? ''}`);
    assert.match(
      requests[0] ?? '',
      /^atrn ATRN branch\.example by branch from 127\.0\.0\.1: roles reversed, 2 held$/,
    );
    await waitFor(async () => (await history(session)).length === 2, {
      what: 'the end of the collection',
    });
    assert.match(
      (await history(session))[1]?.detail ?? '',
      /^collection by branch ended: 2 delivered, 1 failed, 1 still held$/,
    );
    await sink.close();
  });

  test('TURN after AUTH collects every domain the account may collect; the roles reverse the same way', async () => {
    const sink = await SinkServer.start();
    const { c } = await Collector.open(odmr);
    await c.send('EHLO collector.test');
    await c.login('branch', 'branch-pw');
    assert.match(await c.send('TURN'), /^250 2\.0\.0 OK, turnaround now: 2 held messages follow$/);
    await c.turnaround(sink);
    assert.deepEqual(sink.recipients().sort(), ['c@annex.example', 'later@branch.example']);
    for (const id of ids) assert.equal(await state(id), undefined);
    assert.equal(await queueOf(gateway).queues.queue('Branch').getDelayedCount(), 0);
    await sink.close();
  });

  test('a second collector for a domain being collected gets 453 4.3.0 until the first is done', async () => {
    const id = await send(['slow@branch.example'], 'held-slow');
    const slow = await SinkServer.start({ dataDelayMs: 1500 });
    const first = (await Collector.open(odmr)).c;
    await first.send('EHLO collector.test');
    await first.login('branch', 'branch-pw');
    assert.match(await first.send('ATRN branch.example'), /^250 /);
    const collecting = first.turnaround(slow);
    const second = (await Collector.open(odmr)).c;
    await second.send('EHLO collector.test');
    await second.login('branch', 'branch-pw');
    assert.match(
      await second.send('ATRN annex.example,branch.example'),
      /^453 4\.3\.0 You have no mail now: another session is collecting branch\.example$/,
    );
    await collecting;
    assert.equal(slow.messages.length, 1);
    assert.equal(await state(id), undefined);
    assert.match(await second.send('ATRN branch.example'), /^453 4\.3\.0 You have no mail$/);
    second.close();
    await slow.close();
    await sleep(0);
  });
});
