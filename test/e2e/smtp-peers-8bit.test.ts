import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type SinkServer, SmtpDialog, waitFor } from '@mailbus/testing';
import { PostfixPair } from './support/postfix-pair.js';
import { hasPostfix, type PostfixNextHop, record } from './support/postfix-next-hop.js';
import { hasPython, parseWithPython, type PythonMimePart } from './support/python-mime.js';

/** Python's smtplib as the client: sendmail with the MAIL FROM options given. */
const SMTPLIB = `
import smtplib, sys
port, sender, to, opts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].split()
body = sys.stdin.buffer.read()
s = smtplib.SMTP('127.0.0.1', port, timeout=15)
s.ehlo('smtplib.test')
refused = s.sendmail(sender, [to], body, mail_options=opts)
assert not refused, refused
s.quit()
`;

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

const GERMAN =
  'Grüße aus Köln! Wir treffen uns am Montag im Café, über alles Weitere reden wir dann.';
const RUSSIAN = 'Привет, мир! Это письмо на русском языке.';

/** A multipart message with two 8-bit text parts: Latin (quoted-printable) and Cyrillic (base64). */
const MULTIPART_8BIT = crlf(`From: sender@example.org
To: a@bare.test
Subject: 8-bit downgrade
Message-ID: <eightbit-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

${GERMAN}
--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

${RUSSIAN}
--b1--
`);

function leaves(p: PythonMimePart): PythonMimePart[] {
  return p.parts ? p.parts.flatMap(leaves) : [p];
}

function header(p: PythonMimePart, name: string): string | undefined {
  return p.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

describe(
  '8BITMIME and SMTPUTF8 to next hops that do not offer them (Postfix with smtpd_discard_ehlo_keywords)',
  { skip: (!hasPostfix && 'needs root and Postfix') || (!hasPython && 'needs python3') },
  () => {
    let world: PostfixPair;
    let full: PostfixNextHop;
    let bare: PostfixNextHop;
    let smtp: number;
    let senderSide: SinkServer;

    before(async () => {
      world = await PostfixPair.start({
        discard: ['8bitmime', 'smtputf8'],
        fqdn: 'hub.eightbit.test',
      });
      ({ full, bare, smtp, senderSide } = world);
    });

    after(async () => {
      await world?.close();
    });

    function smtplib(sender: string, to: string, opts: string[], body: string): void {
      const r = spawnSync('python3', ['-c', SMTPLIB, String(smtp), sender, to, opts.join(' ')], {
        input: Buffer.from(body, 'utf8'),
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
    }

    /** The DSN the sender side received that reports `recipient`. */
    async function dsnFor(recipient: string): Promise<Buffer> {
      let found: Buffer | undefined;
      await waitFor(
        () =>
          (found = senderSide.messages.find((m) =>
            m.raw.toString('utf8').includes(recipient),
          )?.raw),
        { timeoutMs: 20_000, what: `a DSN for ${recipient}` },
      );
      return found as Buffer;
    }

    test('BODY=8BITMIME to a next hop without 8BITMIME: Postfix gets 7-bit data that decodes to the original', async () => {
      bare.flush();
      smtplib('sender@example.org', 'a@bare.test', ['BODY=8BITMIME'], MULTIPART_8BIT);
      const [e] = await bare.waitForHeld(1);
      assert.ok(e);
      assert.equal(record(e, 'encoding'), undefined, 'no BODY=8BITMIME to a host without it');
      assert.doesNotMatch(e.content, /[\x80-\xff]/, '7-bit octets only');
      const parsed = parseWithPython(Buffer.from(e.content, 'latin1'));
      assert.equal(header(parsed, 'Subject'), '8-bit downgrade');
      assert.equal(header(parsed, 'Message-ID'), '<eightbit-1@example.org>');
      assert.equal(parsed.type, 'multipart/mixed');
      assert.equal(parsed.params.boundary, 'b1', 'the multipart structure is kept');
      const [latin, cyrillic] = leaves(parsed);
      assert.equal(latin?.cte, 'quoted-printable');
      assert.equal(latin?.text, GERMAN);
      assert.equal(cyrillic?.cte, 'base64');
      assert.equal(cyrillic?.text, RUSSIAN);
    });

    test('8-bit octets without BODY=8BITMIME are found and made 7-bit too', async () => {
      bare.flush();
      const { dialog } = await SmtpDialog.open(smtp);
      await dialog.send('EHLO undeclared.test');
      await dialog.send('MAIL FROM:<sender@example.org>');
      await dialog.send('RCPT TO:<b@bare.test>');
      const r = await dialog.data(
        Buffer.from(
          crlf(`Subject: undeclared\nMessage-ID: <undeclared-1@example.org>\n\n${GERMAN}\n`),
        ),
      );
      assert.match(r.lines[0] ?? '', /^250 /);
      await dialog.quit();
      const [e] = await bare.waitForHeld(1);
      assert.ok(e);
      assert.doesNotMatch(e.content, /[\x80-\xff]/);
      const parsed = parseWithPython(Buffer.from(e.content, 'latin1'));
      assert.equal(header(parsed, 'MIME-Version'), '1.0');
      assert.equal(parsed.params.charset, 'utf-8');
      assert.equal(parsed.cte, 'quoted-printable');
      // postcat ends what it prints with an empty line.
      assert.equal(parsed.text?.trimEnd(), GERMAN);
    });

    test('the same message to a next hop offering 8BITMIME goes as it is, with BODY=8BITMIME', async () => {
      full.flush();
      smtplib('sender@example.org', 'a@full.test', ['BODY=8BITMIME'], MULTIPART_8BIT);
      const [e] = await full.waitForHeld(1);
      assert.ok(e);
      assert.equal(record(e, 'encoding'), '8bit');
      assert.ok(
        e.content.includes(Buffer.from(GERMAN, 'utf8').toString('latin1')),
        'the 8-bit text unchanged',
      );
    });

    test('an 8-bit message that cannot be made 7-bit (8-bit header field) bounces 5.6.3, saying why', async () => {
      bare.flush();
      smtplib(
        'sender@example.org',
        'header8@bare.test',
        ['BODY=8BITMIME'],
        crlf(`Subject: ${GERMAN}\n\nbody\n`),
      );
      const dsn = parseWithPython(await dsnFor('header8@bare.test'));
      const [text, status] = dsn.parts ?? [];
      assert.match(status?.raw ?? '', /^Status: 5\.6\.3$/m);
      assert.match(
        text?.text ?? '',
        /Not sent: 554 5\.6\.3 Conversion to 7 bits required, but not possible: host 127\.0\.0\.1 does not offer 8BITMIME and the message has 8-bit octets in a header field\./,
      );
      assert.equal(bare.held().length, 0, 'nothing reached the next hop');
    });

    test('SMTPUTF8 to a next hop without it: nothing is sent, the sender gets an RFC 6533 DSN 5.6.7', async () => {
      bare.flush();
      const subject = 'Grüße von Jörg';
      smtplib(
        'jörg@example.org',
        'dörte@bare.test',
        ['SMTPUTF8', 'BODY=8BITMIME'],
        crlf(
          `From: Jörg <jörg@example.org>\nTo: dörte@bare.test\nSubject: ${subject}\n\n${GERMAN}\n`,
        ),
      );
      const raw = await dsnFor('dörte@bare.test');
      const got = senderSide.messages.find((m) => m.raw === raw);
      assert.deepEqual(got?.to, ['jörg@example.org']);
      assert.equal(got?.smtpUtf8, true, 'the DSN itself is sent with SMTPUTF8');
      const dsn = parseWithPython(raw);
      assert.equal(dsn.type, 'multipart/report');
      assert.equal(dsn.params['report-type'], 'global-delivery-status');
      assert.deepEqual(
        dsn.parts?.map((p) => p.type),
        ['text/plain', 'message/global-delivery-status', 'message/global'],
      );
      const [text, status, returned] = dsn.parts ?? [];
      assert.match(status?.raw ?? '', /^Final-Recipient: utf-8; dörte@bare\.test$/m);
      assert.match(status?.raw ?? '', /^Action: failed$/m);
      assert.match(status?.raw ?? '', /^Status: 5\.6\.7$/m);
      assert.match(
        text?.text ?? '',
        /Not sent: 554 5\.6\.7 SMTPUTF8 is required, but was not offered by host 127\.0\.0\.1: the message has UTF-8 addresses or header fields\./,
      );
      assert.match(returned?.raw ?? '', new RegExp(`Subject: ${subject}`));
      assert.equal(bare.held().length, 0, 'nothing reached the next hop');
    });

    test('SMTPUTF8 is passed on to a next hop that offers it, also for ASCII addresses with UTF-8 header fields', async () => {
      const before = senderSide.messages.length;
      smtplib(
        'sender@example.org',
        'friend@example.org',
        ['SMTPUTF8', 'BODY=8BITMIME'],
        crlf(`Subject: Grüße\nMessage-ID: <utf8hdr-1@example.org>\n\n${GERMAN}\n`),
      );
      const [m] = (await senderSide.waitForMessages(before + 1)).filter((x) =>
        x.raw.includes('utf8hdr-1@example.org'),
      );
      assert.ok(m);
      assert.equal(m.smtpUtf8, true);
      assert.equal(m.bodyType, '8bitmime');
      assert.ok(m.raw.includes(Buffer.from('Subject: Grüße', 'utf8')));
    });

    test('an SMTPUTF8 message that is all ASCII still goes to a next hop without SMTPUTF8', async () => {
      bare.flush();
      smtplib(
        'sender@example.org',
        'ascii@bare.test',
        ['SMTPUTF8'],
        crlf('Subject: plain\n\nplain\n'),
      );
      const [e] = await bare.waitForHeld(1);
      assert.ok(e);
      assert.equal(record(e, 'recipient'), 'ascii@bare.test');
    });
  },
);
