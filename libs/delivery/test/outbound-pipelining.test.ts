import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundDelivery, type OutboundResult, type RecipientResult } from '../src/index.js';
import { request, statuses, TIMEOUTS } from './outbound-fixture.js';
import { ScriptedSmtpServer, type Script, type Session } from './scripted-smtp-server.js';

const PIPELINING = ['PIPELINING', '8BITMIME'];

const THREE = ['bob@fabrikam.test', 'carol@fabrikam.test', 'dave@fabrikam.test'];

const to = (addresses: readonly string[]) => addresses.map((address) => ({ address }));
/** A result's reply as "550 5.1.1 text", to compare with what the server sent. */
const replyOf = (r: RecipientResult | undefined) =>
  r ? `${r.reply.code} ${r.reply.enhanced} ${r.reply.text}` : 'no result';

/** The envelope a pipelining client writes at once: MAIL FROM, the RCPT TOs and DATA. */
function envelope(sender: string, recipients: readonly string[]): string {
  return [`MAIL FROM:<${sender}>`, ...recipients.map((r) => `RCPT TO:<${r}>`), 'DATA', ''].join(
    '\r\n',
  );
}

/** The reads that carried the commands of the transaction starting at the n-th MAIL FROM. */
function envelopeReads(s: Session | undefined, n = 0): string[] {
  const reads = s?.chunks ?? [];
  const starts = reads.flatMap((c, i) => (c.startsWith('MAIL FROM:') ? [i] : []));
  const start = starts[n];
  if (start === undefined) return [];
  const end = reads.findIndex((c, i) => i >= start && /(^|\r\n)DATA\r\n$/.test(c));
  return reads.slice(start, end < 0 ? undefined : end + 1);
}

/** Refuses RCPT TO for the given addresses with the given reply; other commands as usual. */
const refuseRecipients =
  (refusals: Record<string, string>): Script['onCommand'] =>
  (line) => {
    const m = /^RCPT TO:<([^>]*)>/i.exec(line);
    const refusal = m ? refusals[m[1] ?? ''] : undefined;
    return refusal ? { reply: refusal } : undefined;
  };

/** Two recipients, one refused for good and one for now. */
const ALL_REFUSED = {
  'nobody@fabrikam.test': '550 5.1.1 <nobody@fabrikam.test>: User unknown',
  'busy@fabrikam.test': '450 4.2.1 <busy@fabrikam.test>: Mailbox busy, try later',
};

/** Both ALL_REFUSED recipients reported with the server's own RCPT replies. */
function assertAllRefused(r: OutboundResult): void {
  assert.deepEqual(statuses(r), ['nobody@fabrikam.test permanent', 'busy@fabrikam.test transient']);
  assert.deepEqual(r.results.map(replyOf), Object.values(ALL_REFUSED));
}

describe('OutboundDelivery pipelining the envelope (RFC 2920)', () => {
  let peer: ScriptedSmtpServer | undefined;
  let delivery: OutboundDelivery | undefined;
  afterEach(async () => {
    delivery?.close();
    await peer?.close();
    peer = undefined;
    delivery = undefined;
  });

  test('a server offering PIPELINING gets MAIL FROM, every RCPT TO and DATA in one read, and the message intact', async () => {
    // The server answers MAIL and RCPT only once DATA has arrived: a client waiting for
    // the MAIL FROM reply before sending RCPT would hang here until its socket timeout.
    peer = await ScriptedSmtpServer.start({ extensions: PIPELINING, holdEnvelopeReplies: true });
    delivery = new OutboundDelivery(TIMEOUTS);
    const body = 'Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n';
    const r = await delivery.deliver(
      request(peer.port, { recipients: to(THREE), body: Buffer.from(body) }),
    );
    assert.deepEqual(
      statuses(r),
      THREE.map((a) => `${a} delivered`),
    );
    assert.equal(r.results[0]?.reply.code, 250);
    const s = peer.sessions[0];
    assert.deepEqual(envelopeReads(s), [envelope('alice@contoso.com', THREE)]);
    assert.deepEqual(peer.verbs(), [['EHLO', 'MAIL', 'RCPT', 'RCPT', 'RCPT', 'DATA']]);
    assert.equal(s?.messages.length, 1);
    // Dot-stuffed on the wire, unstuffed by the server: the lines starting with "." survive.
    assert.equal(`${s?.messages[0]}\r\n`, body);
  });

  test('a server without PIPELINING gets each envelope command only after the previous reply', async () => {
    peer = await ScriptedSmtpServer.start();
    delivery = new OutboundDelivery(TIMEOUTS);
    const r = await delivery.deliver(request(peer.port, { recipients: to(THREE) }));
    assert.deepEqual(
      statuses(r),
      THREE.map((a) => `${a} delivered`),
    );
    assert.deepEqual(envelopeReads(peer.sessions[0]), [
      'MAIL FROM:<alice@contoso.com>\r\n',
      ...THREE.map((a) => `RCPT TO:<${a}>\r\n`),
      'DATA\r\n',
    ]);
    assert.deepEqual(
      peer.sessions[0]?.messages.map((m) => m.split('\r\n').at(-1)),
      ['first'],
    );
  });

  test('one of three recipients refused in a pipeline: the other two get the message, the refused one its reply', async () => {
    peer = await ScriptedSmtpServer.start({
      extensions: PIPELINING,
      holdEnvelopeReplies: true,
      onCommand: refuseRecipients({
        'carol@fabrikam.test': '550 5.1.1 <carol@fabrikam.test>: Recipient address rejected',
      }),
    });
    delivery = new OutboundDelivery(TIMEOUTS);
    const r = await delivery.deliver(request(peer.port, { recipients: to(THREE) }));
    assert.deepEqual(statuses(r), [
      'bob@fabrikam.test delivered',
      'carol@fabrikam.test permanent',
      'dave@fabrikam.test delivered',
    ]);
    assert.equal(
      replyOf(r.results[1]),
      '550 5.1.1 <carol@fabrikam.test>: Recipient address rejected',
    );
    assert.deepEqual(envelopeReads(peer.sessions[0]), [envelope('alice@contoso.com', THREE)]);
    assert.deepEqual(
      peer.sessions[0]?.messages.map((m) => m.split('\r\n').at(-1)),
      ['first'],
    );
  });

  test('every recipient refused in a pipeline: each gets its RCPT reply, no body is sent after the 554 to DATA, and the connection carries the next message', async () => {
    const refused = Object.keys(ALL_REFUSED);
    peer = await ScriptedSmtpServer.start({
      extensions: PIPELINING,
      holdEnvelopeReplies: true,
      onCommand: refuseRecipients(ALL_REFUSED),
    });
    delivery = new OutboundDelivery(TIMEOUTS);
    const first = await delivery.deliver(request(peer.port, { recipients: to(refused) }));
    assertAllRefused(first);

    const second = await delivery.deliver(
      request(peer.port, { body: Buffer.from('Subject: again\r\n\r\nsecond\r\n') }),
    );
    assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
    assert.equal(peer.sessions.length, 1, 'the connection was reused');
    const s = peer.sessions[0];
    assert.deepEqual(envelopeReads(s), [envelope('alice@contoso.com', refused)]);
    // Any body line after the refused DATA would show up here as a command.
    assert.deepEqual(peer.verbs(), [
      ['EHLO', 'MAIL', 'RCPT', 'RCPT', 'DATA', 'RSET', 'MAIL', 'RCPT', 'DATA'],
    ]);
    assert.deepEqual(
      s?.messages.map((m) => m.split('\r\n').at(-1)),
      ['second'],
    );
  });

  test('every recipient refused but the server answers DATA with 354 anyway: the client sends an empty message, reports the refusals and goes on', async () => {
    const refused = Object.keys(ALL_REFUSED);
    const refuse = refuseRecipients(ALL_REFUSED);
    peer = await ScriptedSmtpServer.start({
      extensions: PIPELINING,
      holdEnvelopeReplies: true,
      // Not what RFC 2920 3.1 asks for, but some servers do it.
      onCommand: (line, s, i) =>
        /^DATA$/i.test(line) ? { reply: '354 Go ahead' } : refuse?.(line, s, i),
    });
    delivery = new OutboundDelivery(TIMEOUTS);
    const first = await delivery.deliver(request(peer.port, { recipients: to(refused) }));
    assertAllRefused(first);

    const second = await delivery.deliver(
      request(peer.port, { body: Buffer.from('Subject: again\r\n\r\nsecond\r\n') }),
    );
    assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
    assert.equal(peer.sessions.length, 1, 'the connection was reused');
    const s = peer.sessions[0];
    // The data of the first transaction was a lone ".": an empty message.
    assert.equal(s?.messages.length, 2);
    assert.equal(s?.messages[0], '');
    assert.equal(s?.messages[1]?.split('\r\n').at(-1), 'second');
    assert.deepEqual(peer.verbs(), [
      ['EHLO', 'MAIL', 'RCPT', 'RCPT', 'DATA', 'RSET', 'MAIL', 'RCPT', 'DATA'],
    ]);
  });

  const refusedSenders: Array<{ name: string; mailReply: string; status: string }> = [
    {
      name: '550: every recipient fails permanently',
      mailReply: '550 5.7.1 <bad@contoso.com>: Sender address rejected: Access denied',
      status: 'permanent',
    },
    {
      name: '451: every recipient is deferred',
      mailReply: '451 4.3.0 <bad@contoso.com>: Temporary lookup failure',
      status: 'transient',
    },
  ];
  for (const c of refusedSenders) {
    test(`MAIL FROM refused in a pipeline with ${c.name}, with the MAIL FROM reply, and the connection carries the next message`, async () => {
      peer = await ScriptedSmtpServer.start({
        extensions: PIPELINING,
        holdEnvelopeReplies: true,
        // The RCPTs and DATA after it get the server's own 503 5.5.1 (no MAIL FROM).
        onCommand: (line) => (/^MAIL FROM:<bad@/i.test(line) ? { reply: c.mailReply } : undefined),
      });
      delivery = new OutboundDelivery(TIMEOUTS);
      const first = await delivery.deliver(
        request(peer.port, { sender: 'bad@contoso.com', recipients: to(THREE) }),
      );
      assert.deepEqual(
        statuses(first),
        THREE.map((a) => `${a} ${c.status}`),
      );
      assert.deepEqual(
        first.results.map(replyOf),
        THREE.map(() => c.mailReply),
      );
      assert.equal(first.connectionFailure, false);

      const second = await delivery.deliver(request(peer.port));
      assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
      assert.equal(peer.sessions.length, 1, 'the connection was reused');
      const s = peer.sessions[0];
      assert.deepEqual(envelopeReads(s), [envelope('bad@contoso.com', THREE)]);
      assert.deepEqual(envelopeReads(s, 1), [envelope('alice@contoso.com', ['bob@fabrikam.test'])]);
      assert.deepEqual(peer.verbs(), [
        ['EHLO', 'MAIL', 'RCPT', 'RCPT', 'RCPT', 'DATA', 'RSET', 'MAIL', 'RCPT', 'DATA'],
      ]);
      assert.deepEqual(
        s?.messages.map((m) => m.split('\r\n').at(-1)),
        ['first'],
      );
    });
  }
});
