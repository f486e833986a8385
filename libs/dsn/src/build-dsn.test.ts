import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { peerReply, reply } from '@mailbus/smtp';
import { buildDsn } from './build-dsn.js';
import type { DsnInput } from './dsn-input.js';

const CRLF = '\r\n';
const arrival = Date.parse('2026-03-28T20:00:00Z');
const now = Date.parse('2026-03-30T20:00:05Z');

const original = Buffer.from(
  [
    'From: Alice <alice@contoso.com>',
    'To: bob@example.com, carol@example.net',
    'Subject: Quarterly report',
    'Message-ID: <orig-1@contoso.com>',
    'Date: Sat, 28 Mar 2026 20:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Numbers attached.',
    '',
  ].join(CRLF),
);

const base: DsnInput = {
  reportingMta: 'mail.contoso.com',
  organization: 'Contoso',
  arrivalDate: arrival,
  now,
  randomId: 'dsn-0001',
  originalSender: 'alice@contoso.com',
  envelopeId: 'QQ314159',
  ret: 'FULL',
  originalMessage: original,
  recipients: [],
};

/** Splits a raw multipart message by hand: top headers and each part's headers and body. */
function splitMime(raw: string): { headers: string; parts: { headers: string; body: string }[] } {
  const [headers = '', body = ''] = splitOnce(raw, CRLF + CRLF);
  const boundary = /boundary="([^"]+)"/.exec(headers)?.[1];
  assert.ok(boundary, 'multipart boundary');
  const sections = body.split(`${CRLF}--${boundary}`);
  assert.ok(sections.at(-1)?.startsWith('--'), 'closing delimiter');
  const parts = sections.slice(1, -1).map((s) => {
    const [h = '', b = ''] = splitOnce(s.replace(/^\r\n/, ''), CRLF + CRLF);
    return { headers: h, body: b };
  });
  return { headers, parts };
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** message/delivery-status body → blocks of field maps (unfolded). */
function statusBlocks(body: string): Map<string, string>[] {
  return body
    .trim()
    .split(CRLF + CRLF)
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.replace(/\r\n[ \t]+/g, ' ').split(CRLF)) {
        const [name = '', value = ''] = splitOnce(line, ': ');
        fields.set(name.toLowerCase(), value);
      }
      return fields;
    });
}

function assertWellFormed(raw: Buffer): void {
  const s = raw.toString('latin1');
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(s), 'CRLF line endings only');
  for (const line of s.split(CRLF))
    assert.ok(
      Buffer.byteLength(line, 'latin1') <= 998,
      `line over 998 octets: ${line.slice(0, 40)}`,
    );
  const headerEnd = s.indexOf(CRLF + CRLF);
  assert.ok(/^[\x20-\x7e\r\n\t]*$/.test(s.slice(0, headerEnd)), 'top-level headers are ASCII');
}

describe('buildDsn', () => {
  test('reports a permanent failure with the remote reply, the envelope id and the full original', async () => {
    const { raw, messageId } = buildDsn({
      ...base,
      recipients: [
        {
          recipient: 'bob@example.com',
          originalRecipient: 'Bob@Example.com',
          action: 'failed',
          status: '5.1.1',
          remoteMta: 'mx1.example.com',
          diagnostic: peerReply(
            reply(550, '5.1.1', '<bob@example.com>: Recipient address rejected: User unknown'),
            'RCPT TO',
          ),
          lastAttempt: Date.parse('2026-03-28T20:00:03Z'),
        },
      ],
    });
    assert.equal(messageId, '<dsn-0001@mail.contoso.com>');
    assertWellFormed(raw);
    const text = raw.toString('utf8');
    const mime = splitMime(text);
    const h = mime.headers.replace(/\r\n[ \t]+/g, ' ');
    assert.match(h, /^From: Mail Delivery System <MAILER-DAEMON@mail\.contoso\.com>$/m);
    assert.match(h, /^To: <alice@contoso\.com>$/m);
    assert.match(h, /^Subject: Undeliverable: Quarterly report$/m);
    assert.match(h, /^Date: Mon, 30 Mar 2026 20:00:05 \+0000$/m);
    assert.match(h, /^Message-ID: <dsn-0001@mail\.contoso\.com>$/m);
    assert.match(h, /^In-Reply-To: <orig-1@contoso\.com>$/m);
    assert.match(h, /^Auto-Submitted: auto-replied$/m);
    assert.match(h, /^MIME-Version: 1\.0$/m);
    assert.match(
      h,
      /^Content-Type: multipart\/report; report-type=delivery-status; boundary="=_mailbus-dsn-dsn-0001"$/m,
    );

    assert.equal(mime.parts.length, 3);
    const [human, report, returned] = mime.parts;
    assert.match(human?.headers ?? '', /Content-Type: text\/plain; charset=us-ascii/);
    assert.match(human?.body ?? '', /Delivery has failed to these recipients or groups:/);
    assert.match(human?.body ?? '', /bob@example\.com/);
    assert.match(human?.body ?? '', /Bad destination mailbox address/);
    assert.match(
      human?.body ?? '',
      /The remote server mx1\.example\.com replied: 550 5\.1\.1 <bob@example\.com>: Recipient address rejected: User unknown \(in reply to RCPT TO command\)/,
    );

    assert.match(report?.headers ?? '', /^Content-Type: message\/delivery-status$/m);
    const [perMessage, bob, ...rest] = statusBlocks(report?.body ?? '');
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.fromEntries(perMessage ?? []), {
      'reporting-mta': 'dns; mail.contoso.com',
      'original-envelope-id': 'QQ314159',
      'arrival-date': 'Sat, 28 Mar 2026 20:00:00 +0000',
    });
    assert.deepEqual(Object.fromEntries(bob ?? []), {
      'original-recipient': 'rfc822; Bob@Example.com',
      'final-recipient': 'rfc822; bob@example.com',
      action: 'failed',
      status: '5.1.1',
      'remote-mta': 'dns; mx1.example.com',
      'diagnostic-code':
        'smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown',
      'last-attempt-date': 'Sat, 28 Mar 2026 20:00:03 +0000',
    });

    assert.match(returned?.headers ?? '', /^Content-Type: message\/rfc822$/m);
    assert.equal(returned?.body, original.toString('latin1'));

    const parsed = await simpleParser(raw);
    assert.equal(parsed.subject, 'Undeliverable: Quarterly report');
    assert.equal(parsed.messageId, '<dsn-0001@mail.contoso.com>');
    assert.equal(parsed.from?.value[0]?.address, 'MAILER-DAEMON@mail.contoso.com');
    assert.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
    const ct = parsed.headers.get('content-type') as {
      value: string;
      params: Record<string, string>;
    };
    assert.equal(ct.value, 'multipart/report');
    assert.equal(ct.params['report-type'], 'delivery-status');
    assert.match(parsed.text ?? '', /Delivery has failed/);
    // mailparser shows the inline message/delivery-status part as text, after the notification.
    const ds = parsed.text ?? '';
    assert.match(ds, /^Reporting-MTA: dns; mail\.contoso\.com$/m);
    assert.match(ds, /^Final-Recipient: rfc822; bob@example\.com$/m);
    assert.match(ds, /^Action: failed$/m);
    assert.match(ds, /^Status: 5\.1\.1$/m);
    assert.deepEqual(
      parsed.attachments.map((a) => a.contentType),
      ['message/rfc822'],
    );
    assert.equal(parsed.attachments[0]?.content.toString('latin1'), original.toString('latin1'));
  });

  test('reports a delay with Will-Retry-Until and returns headers only for RET=HDRS', async () => {
    const { raw } = buildDsn({
      ...base,
      ret: 'HDRS',
      envelopeId: undefined,
      recipients: [
        {
          recipient: 'carol@example.net',
          action: 'delayed',
          status: '4.4.7',
          remoteMta: 'mx.example.net',
          diagnostic: peerReply(reply(451, '4.7.1', 'Greylisted, try again later'), 'RCPT TO'),
          lastAttempt: Date.parse('2026-03-29T08:00:00Z'),
          willRetryUntil: Date.parse('2026-03-30T20:00:00Z'),
        },
      ],
    });
    assertWellFormed(raw);
    const mime = splitMime(raw.toString('latin1'));
    assert.match(mime.headers, /^Subject: Delayed: Quarterly report$/m);
    assert.doesNotMatch(mime.headers, /Original-Envelope-Id/);
    const [perMessage, carol] = statusBlocks(mime.parts[1]?.body ?? '');
    assert.equal(perMessage?.has('original-envelope-id'), false);
    assert.equal(carol?.get('action'), 'delayed');
    assert.equal(carol?.get('status'), '4.4.7');
    assert.equal(carol?.get('diagnostic-code'), 'smtp; 451 4.7.1 Greylisted, try again later');
    assert.equal(carol?.get('will-retry-until'), 'Mon, 30 Mar 2026 20:00:00 +0000');
    assert.equal(carol?.has('original-recipient'), false);
    assert.match(
      mime.parts[0]?.body ?? '',
      /Delivery will be retried until Mon, 30 Mar 2026 20:00:00 \+0000/,
    );
    assert.match(mime.parts[2]?.headers ?? '', /^Content-Type: text\/rfc822-headers$/m);
    assert.match(mime.parts[2]?.body ?? '', /^Subject: Quarterly report\r$/m);
    assert.doesNotMatch(mime.parts[2]?.body ?? '', /Numbers attached/);

    const parsed = await simpleParser(raw);
    assert.deepEqual(
      parsed.attachments.map((a) => a.contentType),
      ['text/rfc822-headers'],
    );
    assert.match(parsed.text ?? '', /^Will-Retry-Until: Mon, 30 Mar 2026 20:00:00 \+0000$/m);
  });

  test('reports a partial failure: one recipient failed, one delivered, one delayed, in one DSN', () => {
    const { raw } = buildDsn({
      ...base,
      recipients: [
        {
          recipient: 'a@example.com',
          action: 'delivered',
          status: '2.0.0',
          remoteMta: 'mx.example.com',
          diagnostic: peerReply(reply(250, '2.0.0', 'Ok: queued as 1A2B'), 'end of DATA'),
        },
        {
          recipient: 'b@example.com',
          action: 'failed',
          status: '5.4.7',
          diagnostic: reply(451, '4.4.1', 'Connection timed out'),
        },
        {
          recipient: 'c@example.org',
          action: 'delayed',
          status: '4.4.1',
          willRetryUntil: now + 3_600_000,
        },
      ],
    });
    assertWellFormed(raw);
    const mime = splitMime(raw.toString('latin1'));
    assert.match(mime.headers, /^Subject: Undeliverable: Quarterly report$/m);
    const blocks = statusBlocks(mime.parts[1]?.body ?? '');
    assert.deepEqual(
      blocks.slice(1).map((b) => [b.get('final-recipient'), b.get('action'), b.get('status')]),
      [
        ['rfc822; a@example.com', 'delivered', '2.0.0'],
        ['rfc822; b@example.com', 'failed', '5.4.7'],
        ['rfc822; c@example.org', 'delayed', '4.4.1'],
      ],
    );
    assert.equal(blocks[2]?.has('remote-mta'), false);
    const human = mime.parts[0]?.body ?? '';
    assert.ok(human.indexOf('Delivery has failed') < human.indexOf('has been delayed'));
    assert.ok(human.indexOf('has been delayed') < human.indexOf('has been delivered'));
    assert.match(human, /Delivery time expired/);
  });

  test('returns only the headers when the original is over the size cap, even with RET=FULL', () => {
    const big = Buffer.concat([original, Buffer.from(`${'x'.repeat(76)}${CRLF}`.repeat(200))]);
    const { raw } = buildDsn({
      ...base,
      originalMessage: big,
      maxReturnedBytes: 4096,
      recipients: [{ recipient: 'bob@example.com', action: 'failed', status: '5.3.4' }],
    });
    const mime = splitMime(raw.toString('latin1'));
    assert.match(mime.parts[2]?.headers ?? '', /^Content-Type: text\/rfc822-headers$/m);
    assert.doesNotMatch(mime.parts[2]?.body ?? '', /xxxx/);
  });

  test('keeps CRLF, short lines and ASCII headers with bare-LF originals, long and non-ASCII replies', async () => {
    const lf = Buffer.from(
      'From: Zoë <zoe@contoso.com>\nSubject: Grüße\nMessage-ID: <x@y>\n\nHallo\n',
      'utf8',
    );
    const { raw } = buildDsn({
      ...base,
      organization: 'Contosø',
      originalMessage: lf,
      recipients: [
        {
          recipient: 'jörg@example.de',
          action: 'failed',
          status: '5.7.1',
          diagnostic: peerReply(
            reply(550, '5.7.1', `Nachricht abgelehnt — ${'policy '.repeat(300)}`),
            'end of DATA',
          ),
        },
      ],
    });
    assertWellFormed(raw);
    const mime = splitMime(raw.toString('latin1'));
    const [, rcpt] = statusBlocks(mime.parts[1]?.body ?? '');
    assert.equal(rcpt?.get('final-recipient'), 'utf-8; j\\x{F6}rg@example.de');
    assert.match(
      rcpt?.get('diagnostic-code') ?? '',
      /^smtp; 550 5\.7\.1 Nachricht abgelehnt \\x\{2014\} policy/,
    );
    assert.match(mime.parts[2]?.headers ?? '', /Content-Transfer-Encoding: 8bit/);
    const parsed = await simpleParser(raw);
    assert.match(parsed.text ?? '', /Contosø/);
    assert.match(parsed.text ?? '', /jörg@example\.de/);
    assert.match(parsed.text ?? '', /replied: 550 5\.7\.1 Nachricht abgelehnt — policy/);
  });

  test('an SMTPUTF8 original gets an RFC 6533 DSN: global-delivery-status, UTF-8 as is, message/global', () => {
    const utf8Original = Buffer.from(
      'From: Jörg <jörg@example.de>\r\nSubject: Grüße\r\n\r\nHallo Dörte\r\n',
      'utf8',
    );
    const dsn = (ret: 'FULL' | 'HDRS') =>
      buildDsn({
        ...base,
        ret,
        international: true,
        originalSender: 'jörg@example.de',
        originalMessage: utf8Original,
        recipients: [
          {
            recipient: 'dörte@example.net',
            originalRecipient: 'Dörte@example.net',
            action: 'failed',
            status: '5.6.7',
            diagnostic: reply(554, '5.6.7', 'SMTPUTF8 is required, but was not offered by host mx'),
          },
        ],
      }).raw;
    const raw = dsn('FULL');
    // UTF-8 header fields are allowed here (RFC 6532): only the line endings are checked.
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(raw.toString('latin1')), 'CRLF line endings only');
    const mime = splitMime(raw.toString('utf8'));
    assert.match(mime.headers, /multipart\/report; report-type=global-delivery-status;/);
    assert.match(mime.headers, /^To: <jörg@example\.de>$/m);
    assert.match(mime.parts[1]?.headers ?? '', /^Content-Type: message\/global-delivery-status$/m);
    assert.match(mime.parts[1]?.headers ?? '', /^Content-Transfer-Encoding: 8bit$/m);
    const [, rcpt] = statusBlocks(mime.parts[1]?.body ?? '');
    assert.equal(rcpt?.get('final-recipient'), 'utf-8; dörte@example.net');
    assert.equal(rcpt?.get('original-recipient'), 'utf-8; Dörte@example.net');
    assert.equal(rcpt?.get('status'), '5.6.7');
    assert.match(mime.parts[2]?.headers ?? '', /^Content-Type: message\/global$/m);
    assert.match(mime.parts[2]?.headers ?? '', /^Content-Transfer-Encoding: 8bit$/m);
    assert.match(mime.parts[2]?.body ?? '', /^Subject: Grüße\r\n/m);
    const hdrs = splitMime(dsn('HDRS').toString('utf8'));
    assert.match(hdrs.parts[2]?.headers ?? '', /^Content-Type: message\/global-headers$/m);
    // Without `international`, the RFC 3464 form as before.
    const plain = splitMime(
      buildDsn({
        ...base,
        recipients: [{ recipient: 'b@example.com', action: 'failed', status: '5.1.1' }],
      }).raw.toString('latin1'),
    );
    assert.match(plain.headers, /report-type=delivery-status;/);
    assert.match(plain.parts[1]?.headers ?? '', /^Content-Type: message\/delivery-status$/m);
    assert.match(plain.parts[2]?.headers ?? '', /^Content-Type: message\/rfc822$/m);
  });

  test('a refused connection is described as such: no "replied", no Remote-MTA, no internal address', async () => {
    const { raw } = buildDsn({
      ...base,
      recipients: [
        {
          recipient: 'bob@example.com',
          action: 'failed',
          status: '5.4.7',
          remoteMta: '10.1.2.3',
          diagnostic: reply(
            451,
            '4.4.1',
            'Connection failed to 10.1.2.3: connect ECONNREFUSED 10.1.2.3:2525',
          ),
        },
        {
          recipient: 'carol@example.net',
          action: 'failed',
          status: '5.4.7',
          diagnostic: reply(451, '4.4.2', 'Timeout talking to 10.1.2.3: Connection timeout'),
        },
      ],
    });
    assertWellFormed(raw);
    const text = raw.toString('latin1');
    assert.doesNotMatch(text, /10\.1\.2\.3|ECONNREFUSED|The (remote )?server .*replied/);
    const [, bob, carol] = statusBlocks(splitMime(text).parts[1]?.body ?? '');
    assert.equal(bob?.has('remote-mta'), false);
    assert.equal(
      bob?.get('diagnostic-code'),
      'X-mailbus; the connection to the next server was refused',
    );
    assert.equal(
      carol?.get('diagnostic-code'),
      'X-mailbus; the connection to the next server timed out',
    );
    const parsed = await simpleParser(raw);
    assert.match(
      parsed.text ?? '',
      /No server replied: the connection to the next server was refused\./,
    );
  });

  test('a server reply in UTF-8 stays UTF-8 in the human part and names the command it answered', async () => {
    const { raw } = buildDsn({
      ...base,
      recipients: [
        {
          recipient: 'bob@example.com',
          action: 'failed',
          status: '5.1.1',
          remoteMta: 'mx1.example.com',
          diagnostic: peerReply(reply(550, '5.1.1', 'bäd mailbox'), 'RCPT TO'),
        },
      ],
    });
    const parsed = await simpleParser(raw);
    assert.match(
      parsed.text ?? '',
      /The remote server mx1\.example\.com replied: 550 5\.1\.1 bäd mailbox \(in reply to RCPT TO command\)/,
    );
    assert.doesNotMatch(parsed.text ?? '', /Ã/);
  });

  test('picks another boundary when the original happens to contain it', () => {
    const tricky = Buffer.concat([original, Buffer.from(`--=_mailbus-dsn-dsn-0001${CRLF}`)]);
    const { raw } = buildDsn({
      ...base,
      originalMessage: tricky,
      recipients: [{ recipient: 'b@example.com', action: 'failed', status: '5.0.0' }],
    });
    assert.match(raw.toString('latin1'), /boundary="=_mailbus-dsn-dsn-0001-1"/);
  });

  test('refuses an empty recipient list and a randomId that is not a safe token', () => {
    assert.throws(() => buildDsn(base), RangeError);
    assert.throws(
      () =>
        buildDsn({
          ...base,
          randomId: 'a b',
          recipients: [{ recipient: 'b@example.com', action: 'failed', status: '5.0.0' }],
        }),
      RangeError,
    );
  });
});
