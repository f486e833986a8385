import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type SinkServer, SmtpDialog } from '@mailbus/testing';
import { hasBounceParser, parseBounce } from './support/bounce-parser.js';
import { PostfixPair } from './support/postfix-pair.js';
import { hasPostfix, type PostfixNextHop, record } from './support/postfix-next-hop.js';

/** Python's smtplib as the client, with ESMTP parameters on MAIL and RCPT. */
const SMTPLIB = `
import smtplib, sys
port, to, body = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode('utf-8')
s = smtplib.SMTP('127.0.0.1', port, timeout=15)
s.ehlo('smtplib.test')
s.mail('x@example.org', ['BODY=8BITMIME', 'RET=HDRS', 'ENVID=env+2Bid'])
code, text = s.rcpt(to, ['NOTIFY=SUCCESS,DELAY', 'ORCPT=rfc822;A@Contoso.test'])
assert code == 250, (code, text)
code, text = s.data(body.replace(b'\\n', b'\\r\\n'))
assert code == 250, (code, text)
s.quit()
`;

/**
 * The SMTP smuggling end-of-data variants (SEC Consult's 2023 research and
 * its public scanner): each is sent inside DATA, followed by a smuggled
 * transaction. mailbus must refuse the message (550 5.5.2) so that the next
 * hop, a Postfix that itself accepts <LF>.<CR><LF>, sees exactly the one
 * clean message that follows on the same session.
 */
const SMUGGLING: Array<[string, string]> = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
  ['<CR><LF>.<CR>', '\r\n.\r'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<CR><LF><NUL>.<CR><LF>', '\r\n\0.\r\n'],
  ['<CR><LF>.<NUL><CR><LF>', '\r\n.\0\r\n'],
];

describe(
  'parameters passed on to Postfix as the next hop, with DSN and 8BITMIME offered and hidden',
  {
    skip: !hasPostfix && 'needs root and Postfix',
  },
  () => {
    let world: PostfixPair;
    let full: PostfixNextHop;
    let bare: PostfixNextHop;
    let smtp: number;
    let senderSide: SinkServer;

    before(async () => {
      world = await PostfixPair.start({ discard: ['dsn', '8bitmime'], fqdn: 'hub.postfix.test' });
      ({ full, bare, smtp, senderSide } = world);
    });

    after(async () => {
      await world?.close();
    });

    function smtplib(to: string, body: string): void {
      const r = spawnSync('python3', ['-c', SMTPLIB, String(smtp), to, body], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
    }

    test('a next hop offering DSN and 8BITMIME gets BODY=8BITMIME, NOTIFY, ORCPT, RET and ENVID as the client sent them', async () => {
      full.flush();
      smtplib('a@full.test', 'Subject: caf\u00e9\n\nna\u00efve 8-bit body\n');
      const [e] = await full.waitForHeld(1);
      assert.ok(e);
      assert.equal(record(e, 'encoding'), '8bit');
      assert.equal(record(e, 'notify_flags'), '10', 'NOTIFY=SUCCESS,DELAY (2 | 8)');
      assert.equal(record(e, 'dsn_orig_rcpt'), 'rfc822;A@Contoso.test');
      assert.equal(record(e, 'envelope_id'), 'env+id');
      assert.equal(record(e, 'ret_flags'), '2', 'RET=HDRS');
      assert.equal(record(e, 'recipient'), 'a@full.test');
      assert.match(
        e.content,
        /na\u00c3\u00afve 8-bit body/,
        'the 8-bit body as sent (UTF-8 octets)',
      );
    });

    test('a next hop hiding DSN and 8BITMIME gets none of them, and the message still', async () => {
      bare.flush();
      smtplib('a@bare.test', 'Subject: plain\n\n7-bit body\n');
      const [e] = await bare.waitForHeld(1);
      assert.ok(e);
      assert.equal(record(e, 'encoding'), undefined);
      assert.equal(record(e, 'notify_flags'), undefined);
      assert.notEqual(record(e, 'dsn_orig_rcpt'), 'rfc822;A@Contoso.test');
      assert.equal(record(e, 'recipient'), 'a@bare.test');
      // NOTIFY=SUCCESS and the next hop cannot report it: mailbus sends a "relayed" DSN itself.
      const dsn = (await senderSide.waitForMessages(1, 20_000))[0]?.raw.toString('utf8') ?? '';
      assert.match(dsn, /^Action: relayed$/m);
      assert.match(dsn, /^Status: 2\.0\.0$/m);
      assert.match(dsn, /^Original-Recipient: rfc822; A@Contoso\.test$/m, 'one rfc822; type');
      assert.match(dsn, /^Final-Recipient: rfc822; a@bare\.test$/m);
      assert.match(dsn, /^Original-Envelope-Id: env\+id$/m);
      if (hasBounceParser) {
        const parsed = parseBounce(Buffer.from(dsn, 'utf8'));
        // The parser reads the delivery-status part, finds Action: relayed and, by design,
        // reports no recipients for a notice that is not a failure.
        assert.equal(parsed.isBounce, false);
        assert.equal(parsed.type, 'delivery-status relayed');
      }
      assert.equal(senderSide.messages.length, 1, 'no relayed DSN for the DSN-capable next hop');
    });

    for (const [name, seq] of SMUGGLING) {
      test(`smuggling ${name}: refused (550 5.5.2, NUL 554 5.6.0), Postfix (smtpd_forbid_bare_newline = no) sees exactly one message per send`, async () => {
        full.flush();
        const { dialog } = await SmtpDialog.open(smtp);
        await dialog.send('EHLO scanner.test');
        await dialog.send('MAIL FROM:<a@sender.test>');
        await dialog.send('RCPT TO:<b@full.test>');
        const smuggled =
          `From: a@sender.test\r\nTo: b@full.test\r\nSubject: carrier ${name}\r\n\r\nhello${seq}` +
          'MAIL FROM:<admin@victim.test>\r\nRCPT TO:<c@full.test>\r\nDATA\r\n' +
          `From: admin@victim.test\r\nSubject: smuggled ${name}\r\n\r\nevil\r\n`;
        const r = await dialog.data(smuggled);
        // A NUL is refused as such (554 5.6.0), bare CR or LF as smuggling material (550 5.5.2).
        assert.match(r.lines[0] ?? '', seq.includes('\0') ? /^554 5\.6\.0 / : /^550 5\.5\.2 /);
        await dialog.send('RSET');
        await dialog.send('MAIL FROM:<a@sender.test>');
        await dialog.send('RCPT TO:<b@full.test>');
        const ok = await dialog.data(`Subject: clean after ${name}\r\n\r\nclean\r\n`);
        assert.match(ok.lines[0] ?? '', /^250 /);
        await dialog.quit();
        const held = await full.waitForHeld(1);
        assert.equal(held.length, 1);
        assert.match(
          held[0]?.content ?? '',
          new RegExp(`Subject: clean after ${name.replace(/[<>]/g, '.')}`),
        );
        assert.doesNotMatch(held[0]?.content ?? '', /smuggled|evil/);
      });
    }
  },
);
