import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  makeMessage,
  RedisServer,
  SinkServer,
  SmtpDialog,
  type SinkReply,
} from '@mailbus/testing';
import { hasBounceParser, parseBounce } from './support/bounce-parser.js';
import { MailbusProcess } from './support/mailbus-process.js';

/**
 * Backscatter (issue 14, finding 2): unknown recipients of an inbound domain
 * are refused during the session, per recipient policy, against a real
 * mailbox host that knows two users; a DSN to an outside sender who never
 * authenticated carries headers only unless RET=FULL.
 */
describe('recipient validation at RCPT: callout to a mailbox host that knows two users, list, none', () => {
  let redis: RedisServer;
  let mailbox: SinkServer;
  let internet: SinkServer;
  let gateway: MailbusProcess;
  let mx: number;
  let dir: string;
  const rcptSeen: string[] = [];
  let mailboxState: 'up' | 'tempfail' = 'up';
  const USERS = new Set(['alice@contoso.test', 'bob@contoso.test']);

  before(async () => {
    redis = await RedisServer.start();
    internet = await SinkServer.start();
    mailbox = await SinkServer.start({
      onRcpt: (a): SinkReply | undefined => {
        rcptSeen.push(a);
        if (mailboxState === 'tempfail')
          return { code: 451, text: '4.3.0 Mailbox database offline' };
        if (a.endsWith('@contoso.test') && !USERS.has(a.toLowerCase()))
          return { code: 550, text: '5.1.1 User unknown' };
        if (a.startsWith('ghost@')) return { code: 550, text: '5.1.1 User unknown' };
        return undefined;
      },
    });
    mx = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'mailbus-valid-'));
    const valid = join(dir, 'valid-recipients.txt');
    writeFileSync(valid, '# listed.test mailboxes\nAlice@listed.test\nsales-*@listed.test\n');
    gateway = await MailbusProcess.start(
      `
redis: { url: "${redis.url}" }
recipientPolicies:
  - { domain: contoso.test, mailboxHosts: ["[127.0.0.1]:${mailbox.port}"], verify: { negativeTtl: 1h, positiveTtl: 1d, timeout: 3s } }
  - { domain: listed.test, mailboxHosts: ["[127.0.0.1]:${mailbox.port}"], recipientValidation: list, validRecipientsFile: "${valid}" }
  - { domain: open.test, mailboxHosts: ["[127.0.0.1]:${mailbox.port}"], recipientValidation: none }
  - { domain: down.test, mailboxHosts: ["[127.0.0.1]:1", "[127.0.0.1]:2"] }
virtualServers:
  - name: mx
    listen: 127.0.0.1:${mx}
    fqdn: mx.contoso.test
    relay: { allow: [] }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${internet.port}"], bridgeheads: [mx], addressSpaces: [{ domain: "*" }] }
`,
      { listening: [`127.0.0.1:${mx}`] },
    );
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([mailbox?.close(), internet?.close()]);
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function rcpts(to: string[], mailParams = ''): Promise<string[]> {
    const { dialog } = await SmtpDialog.open(mx);
    await dialog.send('EHLO outside.example');
    await dialog.send(`MAIL FROM:<victim@outside.example>${mailParams}`);
    const out: string[] = [];
    for (const t of to) out.push((await dialog.send(`RCPT TO:<${t}>`, 15_000)).lines[0] ?? '');
    await dialog.quit();
    return out;
  }

  test('the two known users are accepted and an unknown one gets 550 5.1.1, asked with MAIL FROM:<> and cached', async () => {
    assert.deepEqual(
      await rcpts(['alice@contoso.test', 'Bob@Contoso.test', 'nosuchuser@contoso.test']),
      [
        '250 2.1.5 Accepted',
        '250 2.1.5 Accepted',
        '550 5.1.1 <nosuchuser@contoso.test>: Recipient address rejected: User unknown in mailbox host',
      ],
    );
    assert.deepEqual(rcptSeen.splice(0), [
      'alice@contoso.test',
      'Bob@Contoso.test',
      'nosuchuser@contoso.test',
    ]);
    // Cached in Redis for every node: asked again, the mailbox host is not.
    assert.deepEqual(await rcpts(['nosuchuser@contoso.test', 'alice@contoso.test']), [
      '550 5.1.1 <nosuchuser@contoso.test>: Recipient address rejected: User unknown in mailbox host (cached)',
      '250 2.1.5 Accepted',
    ]);
    assert.deepEqual(rcptSeen.splice(0), []);
    assert.equal(mailbox.messages.length, 0, 'a callout sends no message');
  });

  test("a mailbox host's temporary failure (451) or no mailbox host reachable is 450 4.1.1, never 550; cached users still pass", async () => {
    mailboxState = 'tempfail';
    try {
      assert.deepEqual(await rcpts(['carol@contoso.test', 'bob@contoso.test']), [
        '450 4.1.1 <carol@contoso.test>: Recipient address rejected: unverified address: mailbox host unavailable',
        '250 2.1.5 Accepted',
      ]);
    } finally {
      mailboxState = 'up';
    }
    assert.deepEqual(await rcpts(['someone@down.test']), [
      '450 4.1.1 <someone@down.test>: Recipient address rejected: unverified address: mailbox host unavailable',
    ]);
    // Not cached: once the host is back, carol is asked again (and is unknown).
    assert.match((await rcpts(['carol@contoso.test']))[0] ?? '', /^550 5\.1\.1 /);
  });

  test('recipientValidation: list accepts the addresses and wildcards of its file and refuses the rest', async () => {
    assert.deepEqual(
      await rcpts(['alice@listed.test', 'sales-emea@listed.test', 'bob@listed.test']),
      [
        '250 2.1.5 Accepted',
        '250 2.1.5 Accepted',
        '550 5.1.1 <bob@listed.test>: Recipient address rejected: User unknown in valid recipients list',
      ],
    );
  });

  test(
    'recipientValidation: none accepts any local part; the DSN to the outside sender returns headers only, or the full message with RET=FULL, and a bounce parser reads it',
    { skip: !hasBounceParser && 'libmail-deliverystatus-bounceparser-perl is not installed' },
    async () => {
      const before = internet.messages.length;
      for (const ret of ['', ' RET=FULL']) {
        const { dialog } = await SmtpDialog.open(mx);
        await dialog.send('EHLO outside.example');
        await dialog.send(`MAIL FROM:<victim@outside.example>${ret}`);
        assert.match((await dialog.send('RCPT TO:<ghost@open.test>')).lines[0] ?? '', /^250 /);
        const body = makeMessage({
          from: 'spammer@outside.example',
          to: 'ghost@open.test',
          subject: `pills${ret}`,
          body: 'SECRET-SPAM-BODY',
        });
        assert.match((await dialog.data(body)).lines[0] ?? '', /^250 /);
        await dialog.quit();
      }
      const dsns = (await internet.waitForMessages(before + 2, 30_000)).slice(before);
      const bySubject = (s: string) =>
        dsns.find((d) => d.raw.toString('latin1').includes(`Subject: ${s}\r\n`));
      const hdrs = bySubject('pills');
      const full = bySubject('pills RET=FULL');
      assert.ok(hdrs && full, dsns.map((d) => d.raw.toString('latin1')).join('\n---\n'));
      for (const d of [hdrs, full]) {
        assert.equal(d.from, '');
        assert.deepEqual(d.to, ['victim@outside.example']);
      }
      assert.match(hdrs.raw.toString('latin1'), /^Subject: Undeliverable: pills$/m);
      assert.match(hdrs.raw.toString('latin1'), /could not be delivered to one or more recipients/);
      assert.doesNotMatch(hdrs.raw.toString('latin1'), /\byet\b/, 'a permanent failure is final');
      assert.match(hdrs.raw.toString('latin1'), /Content-Type: text\/rfc822-headers/);
      assert.doesNotMatch(hdrs.raw.toString('latin1'), /SECRET-SPAM-BODY/);
      assert.match(full.raw.toString('latin1'), /Content-Type: message\/rfc822/);
      assert.match(full.raw.toString('latin1'), /SECRET-SPAM-BODY/);
      const parsed = parseBounce(hdrs.raw);
      assert.equal(parsed.isBounce, true);
      assert.equal(parsed.reports[0]?.email, 'ghost@open.test');
      assert.equal(parsed.reports[0]?.status, '5.1.1');
      assert.equal(parsed.reports[0]?.stdReason, 'user_unknown');
      assert.match(parsed.reports[0]?.diagnostic ?? '', /^smtp; 550 5\.1\.1 .*User unknown$/);
    },
  );
});
